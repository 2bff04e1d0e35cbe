// dldbg: hooks for emscripten's dynamic loader, inserted by dldbg into an instrumented copy of
// the program's glue (never into the user's file).  Protocol: dldbg docs/node.md.  Each hook
// writes one JSON line to fd DLDBG_NODE_OUT and blocks on fd DLDBG_NODE_IN (fs.readSync) until
// dldbg answers {"op": "continue"}; other lines are requests, answered with {"reply": ...}.
var __dldbg = (function () {
  var fs = require('fs');
  var OUT = Number(process.env.DLDBG_NODE_OUT), IN = Number(process.env.DLDBG_NODE_IN);
  var attached = OUT > 0 && IN > 0;
  var chunk = Buffer.alloc(1 << 16), pending = '', seq = 0;
  var topEval = null;          // evaluates an expression in the glue's library scope
  var gotSeen = Object.create(null);
  var calls = 0;               // each wrapped call's id, echoed by its leave or throw
  var binaries = new WeakMap(); // module bytes -> module id (loadWebAssemblyModule)
  var modules = 0, instantiating = null;
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
    try { return String(topEval('wasmBinaryFile')).replace(/^.*[\\/]/, ''); } catch (e) { return null; }
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
        for (var lib in libs) if (libs[lib].module && typeof libs[lib].module === 'object') sources.push([lib, libs[lib].module]);
        try { sources.push([null, topEval('Module')['asm']]); } catch (e) {}
        for (var i = 0; i < sources.length; i++)
          for (var k in sources[i][1]) if (sources[i][1][k] === f) return {lib: sources[i][0], name: k};
        return {lib: null, name: null, index: String(f.name)};
      }
      case 'eval': return String((req.scope === 'hook' ? ev : topEval)(req.expr));
    }
    throw new Error('unknown request ' + JSON.stringify(req.op));
  }
  function hook(point, fn, data, ev, call) {
    if (!attached) return;
    var now = Date.now();
    send({hook: point, fn: fn, seq: ++seq, call: call, main: topEval ? mainName() : null,
          since: (now - lastHook) / 1000, data: data, got: gotDiff()});
    for (;;) {
      var req = readLine();
      if (req === null) { attached = false; return; }      // dldbg went away: run on
      if (req.op === 'continue') break;
      var reply;
      try { reply = {ok: true, value: serve(req, ev)}; }
      catch (e) { reply = {ok: false, error: String(e && e.message || e)}; }
      send({reply: reply});
    }
    lastHook = Date.now();
  }
  function errorText(e) { return String(e && e.message !== undefined ? e.message : e); }
  function bytesOf(binary) {
    if (binary instanceof Uint8Array || binary instanceof ArrayBuffer)
      return Buffer.from(binary instanceof ArrayBuffer ? new Uint8Array(binary) : binary).toString('base64');
    return null;  // a WebAssembly.Module (preloaded): no bytes
  }
  function enterData(name, args, ev) {
    switch (name) {
      case 'loadDynamicLibrary': {
        var lib = String(args[0]), flags = args[1] || {global: true, nodelete: true}, known = false;
        try { known = !!topEval('LDSO').loadedLibsByName[lib]; } catch (e) {}
        return {lib: lib, handle: args[2] || 0, already_loaded: known,
                flags: {global: !!flags.global, nodelete: !!flags.nodelete, loadAsync: !!flags.loadAsync,
                        allowUndefined: !!flags.allowUndefined}};
      }
      case 'loadWebAssemblyModule': {
        var mid = ++modules;
        if (args[0] && typeof args[0] === 'object') binaries.set(args[0], mid);
        return {module: mid, bytes: bytesOf(args[0]), handle: args[2] || 0};
      }
      case 'postInstantiation': {
        var md = ev('metadata'), bin = null;
        try { bin = ev('binary'); } catch (e) {}
        instantiating = (bin && typeof bin === 'object' && binaries.get(bin)) || null;
        return {module: instantiating, memoryBase: ev('memoryBase'), tableBase: ev('tableBase'), memorySize: md.memorySize,
                memoryAlign: md.memoryAlign, tableSize: md.tableSize, tableLength: topEval('wasmTable').length};
      }
      case 'mergeLibSymbols': {
        var lib2 = args[0] || {}, table = topEval('asmLibraryArg'), symbols = [], shadowed = [];
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
    if (name === 'postInstantiation') instantiating = null;
    if (name === 'getDylinkMetadata' && result) data = {neededDynlibs: result.neededDynlibs || []};
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
      if (result && typeof result.then === 'function')
        return result.then(function (v) { return leave(name, v, ev, call, data); },
                           function (e) { hook('throw', name, {error: errorText(e)}, ev, call); throw e; });
      return leave(name, result, ev, call, data);
    };
    w.__dldbg = true;
    return w;
  }
  return {wrap: wrap};
})();
