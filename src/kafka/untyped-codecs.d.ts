// Pure-JS codecs without type declarations of their own.
declare module 'snappyjs' {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array): Uint8Array;
}
declare module 'lz4js' {
  export function compressBound(length: number): number;
  export function compressBlock(src: Uint8Array, dst: Uint8Array, start: number, length: number, hashTable: Uint32Array): number;
  export function decompress(input: Uint8Array): Uint8Array;
}
declare module 'lz4js/xxh32.js' {
  export function hash(seed: number, src: Uint8Array, start: number, length: number): number;
}
