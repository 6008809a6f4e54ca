'use strict';
// Who a piece of code belongs to, for the profile summaries (profile-summary.js, perf-summary.js):
// the agent's own files (agent:<file>), each npm package, Node's internals (node:<module>), the
// app, and for native code sampled by perf, V8's parts, libuv, zlib, libc and the kernel.

/** A JavaScript function's owner, from its script's URL or path. */
function ownerOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.replace(/\/.*$/, '');
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return 'agent:' + url.slice(dist + '/dist/'.length).replace(/\.js$/, '');
  return 'app';
}

const ZLIB = /^(deflate|inflate|crc32|adler32|longest_match|fill_window|compress_block|send_bits|_tr_|build_tree|pqdownheap|gen_bitlen|gen_codes|scan_tree|send_tree|zmemcpy|updatewindow)/;

/**
 * The owner of a symbol perf sampled, from its object (dso) and name. JavaScript comes from
 * node's --perf-basic-prof map ([JIT]: `JS:*name /path/file.js:line:col` on Node 20,
 * `JS:*'name ...` on Node 24). The owner comes from the path alone, whatever marks the tier.
 */
function nativeOwnerOf(dso, symbol) {
  if (dso === '[kernel.kallsyms]' || dso.startsWith('[kernel')) return 'kernel';
  if (dso.startsWith('[JIT]') || dso.startsWith('/tmp/perf-')) {
    const js = /^(?:JS|LazyCompile|Function|Script):[*~^+]?(.*?) ((?:node:|file:|\/)\S*?)(?::\d+){1,2}$/.exec(symbol);
    if (js) return ownerOf(js[2], js[1]);
    if (/^(Builtin|BytecodeHandler|Handler|Stub|CallHandler|LoadIC|StoreIC|KeyedLoadIC|KeyedStoreIC)[:_]/.test(symbol)) return 'v8:builtins';
    if (symbol.startsWith('RegExp:')) return 'v8:regexp';
    if (/^(JS|LazyCompile|Function|Script):/.test(symbol)) return 'js:(no script)';
    return 'v8:jit-other';
  }
  if (/libc[.-]|libm[.-]|ld-linux/.test(dso)) return 'libc';
  if (/libstdc\+\+/.test(dso)) return 'libstdc++';
  if (/\/node$|^node$/.test(dso) || dso.endsWith('/bin/node')) {
    if (symbol.startsWith('Builtins_')) return 'v8:builtins';
    if (ZLIB.test(symbol)) return 'zlib';
    if (/^uv_|^uv__/.test(symbol)) return 'libuv';
    if (/v8::internal::(compiler|maglev|wasm)::|v8::internal::(Compiler|OptimizingCompileDispatcher|Parser|Scanner|PreParser|BytecodeGenerator|interpreter::)/.test(symbol)) return 'v8:compiler';
    if (/v8::internal::(Heap|Scavenge|Scavenger|MarkCompact|MinorMarkCompact|MarkingVisitor|ConcurrentMarking|Sweeper|Evacuat|GC|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|LargeObjectSpace|IncrementalMarking|MarkingBarrier|RecordMigratedSlot|SlotSet|RememberedSet|Marking|MainMarkingVisitor|YoungGeneration|PretenuringHandler|ArrayBufferSweeper|WeakObjects|GlobalHandles|LocalHeap|Safepoint|StackGuard)/.test(symbol)) return 'v8:gc';
    if (/v8::internal::|v8::(base|platform)::|^v8::/.test(symbol)) return 'v8:runtime';
    if (/OPENSSL|^EVP_|^SHA|^RAND_|^BN_|^CRYPTO_|^ossl_/.test(symbol)) return 'openssl';
    if (/^node::|^llhttp|^nghttp|^ada::|^simdutf|^cares|^ares_/.test(symbol)) return 'node:native';
    return 'node:other-native';
  }
  return dso.replace(/^.*\//, '');
}

module.exports = { ownerOf, nativeOwnerOf };
