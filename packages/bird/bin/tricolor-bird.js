#!/usr/bin/env -S node --max-semi-space-size=1
// Linked by npm at install time (the compiled file may not exist yet then).
// --max-semi-space-size=1: a speaker's garbage is short-lived (messages, batches); a small
// young generation keeps its resident memory down (about 30 MiB at 500 peers) for the same CPU.
import '../dist/src/cli/bird.js';
