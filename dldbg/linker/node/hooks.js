// dldbg: hooks for emscripten's dynamic loader, inserted by dldbg into an instrumented copy of
// the program's glue (never into the user's file).  Protocol: dldbg docs/node.md.  Each hook
// writes one JSON line to fd DLDBG_NODE_OUT and blocks on fd DLDBG_NODE_IN (fs.readSync) until
// dldbg answers {"op": "continue"}; other lines are requests, answered with {"reply": ...}.
// node's fs comes from process.getBuiltinModule (node >= 20.16), which an ES module glue (no
// `require`) and a glue run by vm.runInThisContext (Pyodide 0.29's pyodide.asm.js) both have.
var __dldbg = (function () {
  var fs = typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('fs') : require('fs');
  var OUT = Number(process.env.DLDBG_NODE_OUT), IN = Number(process.env.DLDBG_NODE_IN);
  var attached = OUT > 0 && IN > 0;
  var chunk = Buffer.alloc(1 << 16), pending = '', seq = 0;
  var topEval = null;          // evaluates an expression in the glue's library scope
  var gotSeen = Object.create(null);
  var calls = 0;               // each wrapped call's id, echoed by its leave or throw
  var binaries = new WeakMap(); // module bytes -> module id (loadWebAssemblyModule)
  var metadatas = new WeakMap(); // getDylinkMetadata's result -> module id (emscripten 4/5)
  var modules = 0, instantiating = null, instantiatingSize = 0, reading = null;
  var lastHook = Date.now();

  function send(obj) {
    var text = JSON.stringify(obj) + '\n';
    for (var off = 0; off < text.length;) off += fs.writeSync(OUT, text.slice(off));
  }
  function readLine() {
    while (pending.indexOf('\n') < 0) {
      var n;
      try { n = fs.readSync(IN, chunk, 0, chunk.length, null); }
      catch (e) { if (e.code === 'EAGAIN') continue; throw e; }
      if (n === 0) return null;
      pending += chunk.toString('latin1', 0, n);
    }
    var i = pending.indexOf('\n'), line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    return JSON.parse(line);
  }
  function mainName() {
    try { var f = topEval('wasmBinaryFile'); return f ? String(f).replace(/^.*[\\/]/, '') : null; }
    catch (e) { return null; }
  }
  function heap() {
    var mem = topEval('wasmMemory');
    return new Uint8Array(mem.buffer);
  }
  function gotDiff() {
    var changes = [], GOT;
    try { GOT = topEval('GOT'); } catch (e) { return changes; }
    for (var name in GOT) {
      var v = Number(GOT[name].value);
      if (!(name in gotSeen) || gotSeen[name] !== v) {
        changes.push([name, name in gotSeen ? gotSeen[name] : null, v]);
        gotSeen[name] = v;
      }
    }
    return changes;
  }
  function serve(req, ev) {
    switch (req.op) {
      case 'read': {
        var h = heap();
        if (req.address < 0 || req.size < 0 || req.address + req.size > h.length)
          throw new Error('range [' + req.address + ', ' + (req.address + req.size) + ') is outside linear memory (' + h.length + ' bytes)');
        return Buffer.from(h.buffer, req.address, req.size).toString('base64');
      }
      case 'write': {
        var h2 = heap(), data = Buffer.from(req.data, 'base64');
        if (req.address < 0 || req.address + data.length > h2.length) throw new Error('range outside linear memory');
        h2.set(data, req.address);
        return data.length;
      }
      case 'memory': return {bytes: heap().length};
      case 'table': return {size: topEval('wasmTable').length};
      case 'got': {
        var GOT = topEval('GOT'), out = {};
        for (var name in GOT) out[name] = Number(GOT[name].value);
        return out;
      }
      case 'slot': {
        var f = topEval('wasmTable').get(req.index);
        if (!f) return null;
        var libs = topEval('LDSO').loadedLibsByName, sources = [];
        for (var lib in libs) {  // a library's exports: `module` (emscripten 3.1) or `exports` (4/5)
          var lx = libs[lib].module || libs[lib].exports;
          if (lib !== '__main__' && lx && typeof lx === 'object') sources.push([lib, lx]);
        }
        try { sources.push([null, topEval('Module')['asm'] || topEval('wasmExports')]); } catch (e) {}
        for (var i = 0; i < sources.length; i++)
          for (var k in sources[i][1]) if (sources[i][1][k] === f) return {lib: sources[i][0], name: k};
        return {lib: null, name: null, index: String(f.name)};
      }
      case 'eval': return String((req.scope === 'hook' ? ev : topEval)(req.expr));
      case 'call': return callOp(req);
      case 'dlopen': return dlopenOp(req);
      case 'dlsym': return dlsymOp(req);
      case 'slotof': {
        var fn = exportsOf(req.lib)[req.name], map = optional('functionsInTableMap');
        return typeof fn === 'function' && map && map.has(fn) ? map.get(fn) : null;
      }
      case 'setgot': {
        var entry = topEval('GOT')[req.name];
        if (!entry) throw new Error('no GOT entry ' + req.name);
        var was = Number(entry.value);
        entry.value = req.value;
        gotSeen[req.name] = Number(entry.value);
        return was;
      }
      case 'setslot': return setSlotOp(req);
      case 'bindings': return bindingsOp(req);
      case 'sp': return Number(stackPointer().get());
      case 'setsp': stackPointer().set(req.value); return Number(stackPointer().get());
    }
    throw new Error('unknown request ' + JSON.stringify(req.op));
  }
  // -- requests that run the program's code (docs/node.md: call, dlopen, dlsym, ...) ---------
  // A request may run wasm or the loader: its hooks report and stop inside it (hook() reads
  // the pipe again), so dldbg's replies nest; the request's own reply comes once it returns.
  function optional(name) { try { return topEval(name); } catch (e) { return undefined; } }
  function mainExports() { return optional('wasmExports') || (optional('Module') || {})['asm'] || {}; }
  function exportsOf(lib) {
    // the glue's record of a loaded library: `module` (emscripten 3.1) or `exports` (later)
    if (lib === null || lib === undefined) return mainExports();
    var dso = topEval('LDSO').loadedLibsByName[lib];
    if (!dso) throw new Error('no library ' + lib + ' in the loader (LDSO)');
    var exp = dso.exports || dso.module;
    if (!exp || typeof exp !== 'object') throw new Error(lib + ' is still loading');
    return exp;
  }
  function functionOf(req) {
    if (req.slot !== undefined && req.slot !== null) {
      var f = topEval('wasmTable').get(req.slot);
      if (!f) throw new Error('table slot ' + req.slot + ' holds no function');
      return f;
    }
    var g = exportsOf(req.lib)[req.name];
    if (typeof g !== 'function') throw new Error((req.lib || 'the main module') + ' exports no function ' + req.name);
    return g;
  }
  function wasmFrames(e) {
    var out = [], lines = String(e && e.stack || '').split('\n');
    for (var i = 0; i < lines.length && lines[i].indexOf('callOp') < 0; i++)  // the called function's frames
      if (/wasm:\/\/|wasm-function\[/.test(lines[i])) out.push(lines[i].trim().replace(/^at /, ''));
    return out;
  }
  function RequestError(message, detail) { this.message = message; this.detail = detail; }
  function callOp(req) {
    var f = functionOf(req), stack = null, sp = null;
    var args = req.args.map(function (a, i) { return req.params[i] === 'i64' ? BigInt(a) : a; });
    try { stack = stackPointer(); sp = stack.get(); } catch (e) {}
    try {
      var r = f.apply(null, args);
      return r === undefined ? null : (typeof r === 'bigint' ? String(r) : r);
    } catch (e) {
      if (stack !== null) stack.set(sp);  // a trapping frame never pops its stack
      var name = e && e.constructor && e.constructor.name || typeof e;
      throw new RequestError(errorText(e), {exception: name, frames: wasmFrames(e),
                                            trap: e instanceof WebAssembly.RuntimeError});
    }
  }
  function dlopenOp(req) {
    // as the glue's dlopenInternal (_dlopen_js) calls the loader, without a C handle: the
    // flags object, a local scope for RTLD_LOCAL (emscripten >= 3.1.2x: a 4-argument loader)
    var load = topEval('loadDynamicLibrary'), fs = optional('FS');
    var flags = {global: req.global, nodelete: req.nodelete, loadAsync: false, fs: fs};
    var args = (load.__dldbg_arity || 0) >= 4 ? [req.lib, flags, req.global ? null : {}] : [req.lib, flags];
    try { load.apply(null, args); }
    catch (e) { throw new RequestError('Could not load dynamic lib: ' + req.lib + '\n' + errorText(e), {}); }
    var dso = topEval('LDSO').loadedLibsByName[req.lib], exp = dso && (dso.exports || dso.module);
    return {refcount: dso && dso.refcount !== Infinity ? dso.refcount : 1, loaded: !!exp && typeof exp === 'object'};
  }
  function dlsymOp(req) {
    // as the glue's _dlsym_js: RTLD_DEFAULT through resolveGlobalSymbol, a library through its
    // exports; a function gets a table slot (addFunction)
    var result, where = req.lib === null ? 'RTLD_DEFAULT' : req.lib;
    if (req.lib === null) {
      result = topEval('resolveGlobalSymbol')(req.name, true);
      if (result && typeof result === 'object' && 'sym' in result) result = result.sym;  // emscripten >= 3.1.4x
    } else {
      var exp = exportsOf(req.lib);
      result = Object.prototype.hasOwnProperty.call(exp, req.name) ? exp[req.name] : undefined;
    }
    if (!result)
      throw new RequestError('Tried to lookup unknown symbol "' + req.name + '" in dynamic lib: ' + where, {});
    if (typeof result === 'function') {
      if (!result.sig && !/\[native code\]/.test(Function.prototype.toString.call(result)))
        // the glue's own dlsym would abort the program here (addFunction: Missing signature)
        throw new RequestError(req.name + ' resolves to a JavaScript function of the glue without a signature (its ' +
                               'stub for a side module\'s symbol); the glue\'s dlsym would abort the program: ' +
                               'look it up in the library that defines it (dlsym LIBRARY ' + req.name + ')', {});
      return {kind: 'func', value: topEval('addFunction')(result, result.sig)};
    }
    if (typeof result === 'object' && 'value' in result) result = result.value;
    return {kind: 'data', value: Number(result)};
  }
  function setSlotOp(req) {
    // an interposition: functionsInTableMap keeps the slot's old function there, so the glue's
    // dlsym/addFunction of that function give this slot, which now holds the new one
    var table = topEval('wasmTable'), f = functionOf(req.source);
    if (req.index < 0 || req.index >= table.length) throw new Error('slot ' + req.index + ' is outside the table');
    var set = optional('setWasmTableEntry');  // keeps the glue's wasmTableMirror in step
    if (typeof set === 'function') set(req.index, f); else table.set(req.index, f);
    return null;
  }
  function bindingsOp(req) {
    // how the glue binds each function import `env.NAME` (its instantiation Proxy): a function
    // of asmLibraryArg (the global scope; wasmImports in emscripten 4/5, whose unresolved names
    // hold stubs) at once, else a lazy stub that resolveSymbol binds on the first call; and which
    // loaded module's export that is, if any
    var table = optional('asmLibraryArg') || topEval('wasmImports'), resolve = topEval('resolveGlobalSymbol'), mod = optional('Module') || {};
    var libs = topEval('LDSO').loadedLibsByName, sources = [[null, mainExports()]];
    for (var l in libs) {
      var e = libs[l].exports || libs[l].module;
      if (l !== '__main__' && e && typeof e === 'object') sources.push([l, e]);
    }
    function owner(f, name) {
      for (var i = 0; i < sources.length; i++) if (sources[i][1][name] === f) return sources[i][0];
      return undefined;
    }
    return req.names.map(function (name) {
      var f = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
      if (f && f.stub) f = undefined;
      var direct = f !== undefined;
      if (!direct) {
        try { f = resolve(name, false); } catch (e) { f = undefined; }
        if (f && typeof f === 'object' && 'sym' in f) f = f.sym;
      }
      if (!f) return null;
      var lib = owner(f, name), via = false;
      if (lib === undefined && typeof mod['_' + name] === 'function' && mod['_' + name] !== f) {
        lib = owner(mod['_' + name], name);  // the glue's JS stub for a module's symbol (Module._NAME)
        via = lib !== undefined;
      }
      return {direct: direct, glue: lib === undefined, lib: lib === undefined ? null : lib, via: via};
    });
  }
  function stackPointer() {
    // the main module's __stack_pointer global (the glue's ___stack_pointer), else stackSave
    var g = optional('___stack_pointer');
    if (g && typeof g === 'object' && 'value' in g)
      return {get: function () { return g.value; }, set: function (v) { g.value = v; }};
    var save = optional('stackSave') || optional('_emscripten_stack_get_current'), restore = optional('stackRestore');
    if (typeof save !== 'function') throw new Error('the glue has no __stack_pointer and no stackSave');
    return {get: function () { return save(); }, set: function (v) { restore(v); }};
  }
  function hook(point, fn, data, ev, call) {
    if (!attached) return;
    var now = Date.now();
    send({hook: point, fn: fn, seq: ++seq, call: call, main: topEval ? mainName() : null,
          since: (now - lastHook) / 1000, data: data, got: gotDiff()});
    for (;;) {
      var req = readLine();
      if (req === null) { attached = false; return; }      // dldbg went away: run on
      if (req.op === 'continue') {
        lastHook = Date.now();
        if (req.fail) throw new Error(req.fail);  // dldbg refuses the module (its limits)
        break;
      }
      var reply;
      try { reply = {ok: true, value: serve(req, ev)}; }
      catch (e) {
        reply = {ok: false, error: String(e && e.message !== undefined ? e.message : e)};
        if (e instanceof RequestError) reply.detail = e.detail;
      }
      send({reply: reply});
    }
    lastHook = Date.now();
  }
  function errorText(e) { return String(e && e.message !== undefined ? e.message : e); }
  function bytesOf(binary) {
    // a Uint8Array, an ArrayBuffer, or emscripten 4/5's HEAP8.slice (an Int8Array: the bytes C's
    // dlopen read into the handle)
    if (binary instanceof ArrayBuffer) return Buffer.from(new Uint8Array(binary)).toString('base64');
    if (ArrayBuffer.isView(binary))
      return Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength).toString('base64');
    return null;  // a WebAssembly.Module (preloaded): no bytes
  }
  function handleOf(args, from) {
    // emscripten 3.1.6: (lib, flags, handle); 4/5: (libName, flags, localScope, handle) and
    // loadWebAssemblyModule(binary, flags, libName, localScope, handle): the last number
    for (var i = args.length - 1; i >= from; i--) if (typeof args[i] === 'number') return args[i];
    return 0;
  }
  function enterData(name, args, ev) {
    switch (name) {
      case 'loadDynamicLibrary': {
        var lib = String(args[0]), flags = args[1] || {global: true, nodelete: true}, known = false;
        try { known = !!topEval('LDSO').loadedLibsByName[lib]; } catch (e) {}
        return {lib: lib, handle: handleOf(args, 2), already_loaded: known,
                flags: {global: !!flags.global, nodelete: !!flags.nodelete, loadAsync: !!flags.loadAsync,
                        allowUndefined: !!flags.allowUndefined}};
      }
      case 'loadWebAssemblyModule': {
        var mid = ++modules;
        if (args[0] && typeof args[0] === 'object') binaries.set(args[0], mid);
        reading = mid;
        return {module: mid, bytes: bytesOf(args[0]), handle: handleOf(args, 2),
                lib: typeof args[2] === 'string' ? args[2] : null};
      }
      case 'postInstantiation': {
        var md = ev('metadata'), bin = null;
        try { bin = ev('binary'); } catch (e) {}
        instantiating = (bin && typeof bin === 'object' && binaries.get(bin)) || metadatas.get(md) || null;
        instantiatingSize = md.memorySize || 0;
        return {module: instantiating, memoryBase: ev('memoryBase'), tableBase: ev('tableBase'), memorySize: md.memorySize,
                memoryAlign: md.memoryAlign, tableSize: md.tableSize, tableLength: topEval('wasmTable').length};
      }
      case 'relocateExports': return {memoryBase: typeof args[1] === 'number' ? args[1] : 0};
      case 'mergeLibSymbols': {
        var lib2 = args[0] || {}, table, symbols = [], shadowed = [];
        try { table = topEval('asmLibraryArg'); } catch (e) { table = topEval('wasmImports'); }
        for (var sym in lib2) {
          if (!Object.prototype.hasOwnProperty.call(lib2, sym)) continue;
          (Object.prototype.hasOwnProperty.call(table, sym) ? shadowed : symbols).push(sym);
        }
        return {lib: String(args[1]), symbols: symbols, shadowed: shadowed};
      }
    }
    return {};
  }
  function leave(name, result, ev, call, enter) {
    var data = {};
    if (name === 'relocateExports' && result && typeof result['__wasm_call_ctors'] === 'function') {
      var init = result['__wasm_call_ctors'], mid = instantiating;
      result['__wasm_call_ctors'] = function () {
        var t = Date.now(), r = init.apply(this, arguments);
        hook('ctor', '__wasm_call_ctors', {module: mid, seconds: (Date.now() - t) / 1000}, ev, null);
        return r;
      };
    }
    var relocs = result && typeof result === 'object' ? result['__wasm_apply_data_relocs'] : null;
    if (name === 'relocateExports' && typeof relocs === 'function' && instantiating !== null) {
      // emscripten 4/5: the glue calls the module's __wasm_apply_data_relocs itself (at once, or
      // from __RELOC_FUNCS__ at start-up): report the words it changes in the module's memory
      var base = enter.memoryBase, size = instantiatingSize, rid = instantiating;
      result['__wasm_apply_data_relocs'] = function () {
        var before = heap().slice(base, base + size), t = Date.now(), r = relocs.apply(this, arguments);
        var after = heap(), changes = [];
        for (var off = 0; off + 4 <= size; off += 4) {
          var a = before[off] | before[off + 1] << 8 | before[off + 2] << 16 | before[off + 3] << 24;
          var b = after[base + off] | after[base + off + 1] << 8 | after[base + off + 2] << 16 | after[base + off + 3] << 24;
          if (a !== b) changes.push([base + off, a >>> 0, b >>> 0]);
        }
        hook('relocs', '__wasm_apply_data_relocs', {module: rid, seconds: (Date.now() - t) / 1000, changes: changes}, ev, null);
        return r;
      };
    }
    if (name === 'postInstantiation') instantiating = null;
    if (name === 'getDylinkMetadata' && result) {
      if (reading !== null && typeof result === 'object') metadatas.set(result, reading);
      data = {neededDynlibs: result.neededDynlibs || []};
    }
    if (name === 'loadDynamicLibrary') {
      var dso = null;
      try { dso = topEval('LDSO').loadedLibsByName[enter.lib]; } catch (e) {}
      data = {refcount: dso && dso.refcount !== Infinity ? dso.refcount : 1};
    }
    hook('leave', name, data, ev, call);
    return result;
  }
  function wrap(name, f, ev) {
    if (typeof f !== 'function' || f.__dldbg) return f;
    if (topEval === null) topEval = ev;
    var w = function () {
      var call = ++calls, data = enterData(name, arguments, ev);
      hook('enter', name, data, ev, call);
      var result;
      try { result = f.apply(this, arguments); }
      catch (e) { hook('throw', name, {error: errorText(e)}, ev, call); throw e; }
      finally { if (name === 'loadWebAssemblyModule') reading = null; }
      if (result && typeof result.then === 'function')
        return result.then(function (v) { return leave(name, v, ev, call, data); },
                           function (e) { hook('throw', name, {error: errorText(e)}, ev, call); throw e; });
      return leave(name, result, ev, call, data);
    };
    w.__dldbg = true;
    w.__dldbg_arity = f.length;
    return w;
  }
  return {wrap: wrap};
})();
