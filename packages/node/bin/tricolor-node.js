#!/usr/bin/env node
// Linked by npm at install time (the compiled file may not exist yet then).
import '../dist/src/main.js';
