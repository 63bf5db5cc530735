/**
 * The scale bench's claims run ahead of the nodes (bench/priority.ts): the process's nice and,
 * where the kernel groups tasks by session, the session's group nice, both put back however
 * the work ends.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { isRoot } from '@tricolor/testkit';
import {
  AHEAD_OF_NODES_GROUP_NICE,
  AHEAD_OF_NODES_NICE,
  aheadOfNodes,
  autogroupNice,
} from '../bench/priority.js';

const skip = isRoot() ? false : 'SKIPPED (not a pass): raising a priority needs root';

test('ahead of the nodes while the work runs, back afterwards, also when it fails', { skip }, async () => {
  const nice = getPriority();
  const group = autogroupNice();
  const lines: string[] = [];
  const during = await aheadOfNodes(
    async () => ({ nice: getPriority(), group: autogroupNice() }),
    (l) => lines.push(l),
  );
  assert.equal(during.nice, AHEAD_OF_NODES_NICE);
  if (group === undefined) {
    assert.equal(during.group, undefined);
    assert.match(lines[0]!, /groups no sessions/);
  } else if (/cannot set the session group's nice/.test(lines[0]!)) {
    assert.equal(during.group, group, 'a group nice that cannot be set is left as it was');
  } else {
    assert.equal(during.group, AHEAD_OF_NODES_GROUP_NICE);
    assert.match(lines[0]!, new RegExp(`session group nice ${AHEAD_OF_NODES_GROUP_NICE} \\(was ${group}\\)`));
  }
  assert.equal(getPriority(), nice);
  assert.equal(autogroupNice(), group);

  await assert.rejects(
    aheadOfNodes(
      async () => {
        throw new Error('claim failed');
      },
      () => {},
    ),
    /claim failed/,
  );
  assert.equal(getPriority(), nice);
  assert.equal(autogroupNice(), group);
  if (group !== undefined)
    assert.match(readFileSync('/proc/self/autogroup', 'utf8'), new RegExp(`nice ${group}\\b`));
});
