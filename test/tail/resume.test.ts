/** Where a newly identified file starts (src/tail/resume.ts): one row per rule. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideResume, type ResumeFacts } from '../../src/tail/resume.ts';

const base: ResumeFacts = {
  size: 1000,
  checkpoint: undefined,
  original: undefined,
  lineStartsAtOriginalOffset: undefined,
  knownInode: false,
  atStartup: false,
  startAt: 'beginning',
};
const original = (state: 'followed' | 'live' | 'gone', offset = 400) => ({ state, key: '1:2:abc', offset, id: '1:9:abc' });

const rows: [string, Partial<ResumeFacts>, ReturnType<typeof decideResume>][] = [
  ['its checkpoint', { checkpoint: { offset: 300 } }, { follow: true, position: 300, from: 'checkpoint' }],
  ['its checkpoint at its very end', { checkpoint: { offset: 1000 } }, { follow: true, position: 1000, from: 'checkpoint' }],
  ['shorter than its checkpoint: rewritten with the same first line, read whole', { checkpoint: { offset: 1200 } }, { follow: true, position: 0, from: 'shorter than its checkpoint (rewritten)' }],
  ['its own checkpoint wins over being a copy', { checkpoint: { offset: 300 }, original: original('followed') }, { follow: true, position: 300, from: 'checkpoint' }],
  ['a copy of a followed file is not read', { original: original('followed') }, { follow: false, why: 'a copy of a file being read: its lines come from the original' }],
  ['a copy of a file still on disk is not read', { original: original('live') }, { follow: false, why: 'a copy of a file that is read from its checkpoint' }],
  [
    'a copy of a truncated file continues at its checkpoint, with its ids',
    { original: original('gone'), lineStartsAtOriginalOffset: true },
    { follow: true, position: 400, from: 'checkpoint of the file it is a copy of', id: '1:9:abc', replaces: '1:2:abc' },
  ],
  [
    'a copy shorter than its original was read: nothing of it is new',
    { original: original('gone', 1500) },
    { follow: true, position: 1000, from: 'copy of a file read past its end', id: '1:9:abc', replaces: '1:2:abc' },
  ],
  ['no line starts at the checkpoint in the "copy": an unrelated file, read whole', { original: original('gone'), lineStartsAtOriginalOffset: false }, { follow: true, position: 0, from: 'beginning' }],
  ['new content in an inode that had a checkpoint: read whole, even at start-up with start_at end', { knownInode: true, atStartup: true, startAt: 'end' }, { follow: true, position: 0, from: 'inode rewritten since its checkpoint' }],
  ['start_at end at start-up', { atStartup: true, startAt: 'end' }, { follow: true, position: 1000, from: 'end' }],
  ['start_at end does not apply to a file that appears later', { atStartup: false, startAt: 'end' }, { follow: true, position: 0, from: 'beginning' }],
  ['a new file', {}, { follow: true, position: 0, from: 'beginning' }],
];

for (const [name, facts, expected] of rows) {
  test(`resume: ${name}`, () => {
    assert.deepEqual(decideResume({ ...base, ...facts }), expected);
  });
}
