'use strict';
// Experiment, not a configuration of the harness: V8 tiers functions up about eight times sooner
// (its interrupt budget from 66 KB to 8 KB), so a path taken by one request in eight gets
// optimized about as soon as one taken by every request would by default. Preloaded through
// NODE_OPTIONS in a configuration of one's own (BENCH_EXTRA_CONFIGS); see RESULTS.md, "Still open".
require('node:v8').setFlagsFromString('--interrupt-budget=8448');
