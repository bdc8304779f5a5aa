'use strict';
// Node.js side of the LocalStack "process" Lambda runtime executor.
//
// One process per LocalStack execution environment. It speaks LocalStack's init protocol
// (localstack/services/lambda_/invocation/executor_endpoint.py) and runs the handler with the
// semantics of AWS's Node.js runtime interface client (RIC):
//   LS -> runner: POST http://127.0.0.1:<port>/invoke {"invoke-id","invoked-function-arn","payload","trace-id"}
//                 acknowledged with 200 at once; the work happens after the ack.
//   runner -> LS: POST <LOCALSTACK_RUNTIME_ENDPOINT>/status/<id>/ready {"port": <port>}   (or /status/<id>/error)
//                 POST .../invocations/<req>/logs {"logs": "..."}   (always BEFORE the result)
//                 POST .../invocations/<req>/response | /error        (raw JSON bytes)
// An error posted with the header X-LocalStack-Runtime-Restart asks the executor to replace this
// process before the next invoke (timeout, uncaught exception): AWS resets the sandbox then.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');
const { createRequire } = require('node:module');

// ---------------------------------------------------------------------------------------------
// 0) configuration, then hide LocalStack internals from user code (the Go init does the same)
const E = process.env;
const BASE = new URL(E.LOCALSTACK_RUNTIME_ENDPOINT || 'http://127.0.0.1:4566/_localstack_lambda/standalone');
const RID = E.LOCALSTACK_RUNTIME_ID || 'standalone';
const PORT = Number(E.LOCALSTACK_INTEROP_PORT || 0);
const TIMEOUT_MS = 1000 * Number(E.AWS_LAMBDA_FUNCTION_TIMEOUT || 3);
const MAX_PAYLOAD = Number(E.LOCALSTACK_MAX_PAYLOAD_SIZE || 6291556);
const RESTART_HEADER = 'X-LocalStack-Runtime-Restart';
for (const k of Object.keys(E)) {
  if (k.startsWith('LOCALSTACK_') && k !== 'LOCALSTACK_HOSTNAME') delete E[k];
}

// ---------------------------------------------------------------------------------------------
// 1) log capture: everything written to stdout/stderr since the last flush belongs to the next
//    /logs post (init output lands in the first invocation, as with the Go init). The original
//    streams still get the bytes, so the executor keeps a raw per-environment log file.
let logBuf = [];
let requestId; // undefined during init, as in RIC
for (const stream of [process.stdout, process.stderr]) {
  const orig = stream.write.bind(stream);
  stream.write = (chunk, encoding, cb) => {
    logBuf.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return orig(chunk, encoding, cb);
  };
}
const JSON_LOGS = E.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const MIN_LEVEL = LEVELS[String(E.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()] || 0;
function logLine(level) {
  return (...args) => {
    if (JSON_LOGS && LEVELS[level] < MIN_LEVEL) return;
    const ts = new Date().toISOString();
    if (JSON_LOGS) {
      const rec = { timestamp: ts, level, requestId, message: util.format(...args) };
      if (args.length === 1 && args[0] instanceof Error) {
        Object.assign(rec, { errorType: args[0].name, errorMessage: args[0].message, stackTrace: String(args[0].stack).split('\n') });
      }
      process.stdout.write(JSON.stringify(rec) + '\n');
    } else {
      // RIC text format; newlines become \r so that one console call is one log event
      process.stdout.write(`${ts}\t${requestId}\t${level}\t${util.format(...args).replace(/\n/g, '\r')}\n`);
    }
  };
}
console.log = console.info = logLine('INFO');
console.warn = logLine('WARN');
console.error = logLine('ERROR');
console.debug = logLine('DEBUG');
console.trace = logLine('TRACE');
console.fatal = logLine('FATAL');

// ---------------------------------------------------------------------------------------------
// 2) callbacks to LocalStack: JSON, no keep-alive (agent: false), loopback, no proxy
function post(p, body, headers = {}) {
  return new Promise((resolve) => {
    const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const rq = http.request(
      {
        hostname: BASE.hostname,
        port: BASE.port,
        method: 'POST',
        path: BASE.pathname.replace(/\/$/, '') + p,
        agent: false,
        headers: { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', resolve);
      },
    );
    rq.on('error', (e) => {
      process.stderr.write(`[runner] callback ${p} failed: ${e && e.message}\n`);
      resolve();
    });
    rq.end(data);
  });
}

// ---------------------------------------------------------------------------------------------
// 3) error shapes (RIC Errors.js toRapidResponse)
function rtErr(type, msg) {
  const e = new Error(msg);
  e.name = `Runtime.${type}`;
  return e;
}
function isErrorLike(e) {
  return e instanceof Error || (e != null && typeof e === 'object' && typeof e.name === 'string' && typeof e.message === 'string');
}
function toRapidResponse(e) {
  try {
    if (isErrorLike(e)) {
      return { errorType: e.name, errorMessage: e.message, trace: typeof e.stack === 'string' ? e.stack.split('\n') : [] };
    }
    return { errorType: typeof e, errorMessage: String(e), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

// ---------------------------------------------------------------------------------------------
// 4) handler loading (RIC UserFunction.js): module resolution order, ESM and CommonJS
function nodePathDirs() {
  return String(E.NODE_PATH || '')
    .split(path.delimiter)
    .filter(Boolean);
}

let esmHooksRegistered = false;
// ESM `import` ignores NODE_PATH. On AWS the runtime's bundled @aws-sdk/* is importable from ESM
// handlers anyway; emulate that with a resolve hook that retries bare specifiers from the
// node_modules directories on NODE_PATH. Registered only when an ESM handler is loaded.
function registerEsmFallback() {
  if (esmHooksRegistered) return;
  esmHooksRegistered = true;
  const { register } = require('node:module');
  if (typeof register !== 'function') return; // Node < 20.6
  const roots = nodePathDirs()
    .filter((d) => path.basename(d) === 'node_modules')
    .map((d) => pathToFileURL(path.join(path.dirname(d), 'noop.mjs')).href);
  if (roots.length === 0) return;
  const src = `
    const ROOTS = ${JSON.stringify(roots)};
    const bare = (s) => !(s.startsWith('.') || s.startsWith('/') || s.startsWith('node:') || /^[a-z][a-z0-9+.-]*:/i.test(s));
    export async function resolve(specifier, context, next) {
      try { return await next(specifier, context); }
      catch (e) {
        if (!e || e.code !== 'ERR_MODULE_NOT_FOUND' || !bare(specifier)) throw e;
        for (const parentURL of ROOTS) {
          try { return await next(specifier, { ...context, parentURL }); } catch {}
        }
        throw e;
      }
    }`;
  register('data:text/javascript,' + encodeURIComponent(src));
}

function hasPackageJsonTypeModule(file) {
  // nearest package.json from the handler's directory upwards, not past a node_modules dir
  let dir = path.dirname(file);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir || path.basename(dir) === 'node_modules') return false;
    dir = parent;
  }
}

async function loadHandler(taskRoot, fullHandler) {
  if (!fullHandler) throw rtErr('MalformedHandlerName', 'Bad handler');
  if (fullHandler.includes('..')) {
    throw rtErr(
      'MalformedHandlerName',
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const m = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!m) throw rtErr('MalformedHandlerName', 'Bad handler');
  const [, moduleName, handlerPath] = m;
  const file = path.resolve(taskRoot, moduleRoot, moduleName);
  const req = createRequire(path.join(taskRoot, 'noop.js'));
  const doImport = (f) => {
    registerEsmFallback();
    return import(pathToFileURL(f).href);
  };

  let app;
  try {
    if (fs.existsSync(file)) {
      app = req(file);
    } else {
      const typeModule = hasPackageJsonTypeModule(file + '.js');
      if (!typeModule && fs.existsSync(file + '.js')) app = req(file + '.js');
      else if (typeModule && fs.existsSync(file + '.js')) app = await doImport(file + '.js');
      else if (fs.existsSync(file + '.mjs')) app = await doImport(file + '.mjs');
      else if (fs.existsSync(file + '.cjs')) app = req(file + '.cjs');
      else app = req(req.resolve(moduleName, { paths: [taskRoot, path.resolve(taskRoot, moduleRoot)] }));
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw rtErr('UserCodeSyntaxError', String(e));
    // as RIC: only CommonJS's MODULE_NOT_FOUND; a failed ESM import (ERR_MODULE_NOT_FOUND) stays an Error
    if (e && e.code === 'MODULE_NOT_FOUND') throw rtErr('ImportModuleError', String(e));
    throw e;
  }
  const fn = handlerPath.split('.').reduce((o, k) => (o == null ? undefined : o[k]), app);
  if (fn === undefined || fn === null) throw rtErr('HandlerNotFound', `${fullHandler} is undefined or not exported`);
  if (typeof fn !== 'function') throw rtErr('HandlerNotFound', `${fullHandler} is not a function`);
  return fn;
}

// Callback-style handlers (3 declared parameters): the nodejs24.x runtime refuses them at init
// (Runtime.CallbackHandlerDeprecated, also for async functions); RIC 3.x (nodejs22.x and older)
// only warns for non-async ones.
const STREAM_RESPONSE = Symbol.for('aws.lambda.runtime.handler.streaming');
function checkCallbackHandler(fn) {
  if (fn[STREAM_RESPONSE] || fn.length < 3) return;
  const m = /nodejs(\d+)/.exec(E.AWS_EXECUTION_ENV || '');
  const major = m ? Number(m[1]) : 0;
  if (major >= 24) {
    throw rtErr(
      'CallbackHandlerDeprecated',
      `${E._HANDLER} declares a callback parameter; callback-based function handlers are not supported on Node.js 24 and later. Use an async handler: export const handler = async (event, context) => { ... }`,
    );
  }
  const isAsync = fn.constructor && fn.constructor.name === 'AsyncFunction';
  if (!isAsync && E.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined) {
    console.warn(
      'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// 5) process-level safety nets
let handler;
let server;
let inflight = null; // { finish, onLoopEmpty } while an invocation runs
let initDone = false;
let busy = false; // between the ack of /invoke and the end of the invocation

process.on('uncaughtException', (e) => fatal(e, 129));
process.on('unhandledRejection', (reason) => {
  // RIC index.mjs: fatal, reported as Runtime.UnhandledPromiseRejection with reason.toString()
  let msg;
  try {
    msg = String(reason);
  } catch {
    msg = 'unhandled rejection';
  }
  fatal(rtErr('UnhandledPromiseRejection', msg), 128);
});
// 'beforeExit' fires when the event loop has drained; the server is unref'd during an invocation
process.on('beforeExit', () => {
  if (inflight) inflight.onLoopEmpty();
});
// orphan safety: the executor starts us in our own session (we lead the process group); when our
// parent goes away, take the group down (anything the handler spawned) and ourselves with it
const PPID = process.ppid;
setInterval(() => {
  if (process.ppid === PPID) return;
  try {
    process.kill(-process.pid, 'SIGKILL'); // ESRCH unless we lead our own process group
  } catch {
    // not a group leader (started by hand or by a test): just leave
  }
  process.exit(0);
}, 500).unref();

let dying = false;
async function fatal(err, code) {
  if (dying) return;
  dying = true;
  try {
    const body = toRapidResponse(err);
    console.error(initDone ? 'Uncaught Exception' : 'Init Error', '\t' + JSON.stringify(body));
    if (inflight) await inflight.finish(true, body, true);
    else if (!initDone) await post(`/status/${RID}/error`, body);
  } finally {
    process.exit(code);
  }
}

// ---------------------------------------------------------------------------------------------
// 6) init
(async () => {
  try {
    globalThis.awslambda = globalThis.awslambda || {
      // best effort: response streaming is not supported by this executor
      streamifyResponse: (h) => Object.assign(h, { [STREAM_RESPONSE]: true }),
      HttpResponseStream: class HttpResponseStream {},
    };
    handler = await loadHandler(E.LAMBDA_TASK_ROOT || process.cwd(), E._HANDLER);
    checkCallbackHandler(handler);
  } catch (e) {
    const body = toRapidResponse(e);
    console.error('Init Error', '\t' + JSON.stringify(body));
    dying = true;
    await post(`/status/${RID}/error`, body);
    process.exit(1);
  }
  initDone = true;
  server = http.createServer(onRequest);
  server.keepAliveTimeout = 0;
  server.listen(PORT, '127.0.0.1', () => {
    post(`/status/${RID}/ready`, { port: server.address().port });
  });
})();

// ---------------------------------------------------------------------------------------------
// 7) invocations
function onRequest(req, res) {
  if (req.method !== 'POST' || req.url !== '/invoke') {
    res.writeHead(404, { Connection: 'close' }).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let inv;
    try {
      inv = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      res.writeHead(400, { Connection: 'close' }).end(String(e));
      return;
    }
    if (inflight || busy) {
      res.writeHead(409, { Connection: 'close' }).end('busy');
      return;
    }
    busy = true;
    // ack first, like the Go init; the result goes back through the callbacks. setImmediate lets
    // the ack leave before a handler that blocks the event loop starts.
    res.writeHead(200, { Connection: 'close', 'Content-Type': 'text/plain' });
    res.end('OK');
    setImmediate(() => runInvoke(inv));
  });
}

function runInvoke(inv) {
  const id = inv['invoke-id'];
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + TIMEOUT_MS;
  requestId = id;
  if (inv['trace-id']) E._X_AMZN_TRACE_ID = inv['trace-id'];
  else delete E._X_AMZN_TRACE_ID;
  process.stdout.write(`START RequestId: ${id} Version: ${E.AWS_LAMBDA_FUNCTION_VERSION}\n`);

  let completed = false;
  let waitForEmpty = true;
  let pending = null; // callback(null, result) waiting for the event loop to drain
  let called = false;
  let timer;

  async function finish(isError, value, restart = false) {
    if (completed) return;
    completed = true;
    clearTimeout(timer);
    let body;
    if (isError) {
      body = JSON.stringify(value);
      if (!restart || value.errorType !== 'Sandbox.Timedout') console.error('Invoke Error', '\t' + body);
    } else {
      try {
        body = JSON.stringify(value === undefined ? null : value);
        if (body === undefined) body = 'null'; // e.g. a function value
      } catch (e) {
        isError = true;
        body = JSON.stringify({
          errorType: 'Runtime.SerializationError',
          errorMessage: `Unable to stringify response body: ${e && e.message}`,
          trace: [],
        });
      }
      if (!isError && Buffer.byteLength(body) > MAX_PAYLOAD) {
        isError = true;
        body = JSON.stringify({
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD} bytes).`,
        });
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const mem = E.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
    const used = Math.min(Math.ceil(process.memoryUsage.rss() / 1048576), Number(mem) || Infinity);
    if (restart && value && value.errorType === 'Sandbox.Timedout') {
      process.stdout.write(`${new Date().toISOString()} ${id} Task timed out after ${(TIMEOUT_MS / 1000).toFixed(2)} seconds\n`);
    }
    process.stdout.write(`END RequestId: ${id}\n`);
    process.stdout.write(
      `REPORT RequestId: ${id}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(ms))} ms\tMemory Size: ${mem} MB\tMax Memory Used: ${used} MB\t\n`,
    );
    const logs = logBuf.join('');
    logBuf = [];
    const enc = encodeURIComponent(id);
    await post(`/invocations/${enc}/logs`, { logs }); // BEFORE the result: LS attaches the logs it has then
    // Ready for the next invocation BEFORE the result goes out: LocalStack settles the invocation
    // when it gets the result and may send the next /invoke before its reply to this post reaches
    // us; clearing the flags after the await answered that invoke with 409 busy.
    inflight = null;
    busy = false;
    requestId = undefined;
    if (server) server.ref();
    await post(`/invocations/${enc}/${isError ? 'error' : 'response'}`, Buffer.from(body), restart ? { [RESTART_HEADER]: '1' } : {});
  }

  const succeed = (r) => finish(false, r);
  const fail = (e) => finish(true, toRapidResponse(e == null ? 'handled' : e));
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmpty;
    },
    set callbackWaitsForEmptyEventLoop(v) {
      waitForEmpty = v;
    },
    succeed,
    fail,
    done: (e, r) => (e != null ? fail(e) : succeed(r)),
    functionName: E.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: E.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: E.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: E.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: E.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: inv['invoked-function-arn'],
    awsRequestId: id,
    clientContext: undefined, // not forwarded by LocalStack
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const callback = (err, result) => {
    if (called || completed) return;
    called = true;
    if (err != null) return fail(err);
    if (!waitForEmpty) return succeed(result);
    pending = { result }; // completes on 'beforeExit'
  };

  // soft timeout: only fires if the event loop is free; the executor enforces a hard one
  timer = setTimeout(() => {
    finish(
      true,
      {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${id} Error: Task timed out after ${(TIMEOUT_MS / 1000).toFixed(2)} seconds`,
      },
      true,
    );
  }, TIMEOUT_MS);
  timer.unref();

  const isAsyncHandler = handler.constructor && handler.constructor.name === 'AsyncFunction';
  inflight = {
    finish,
    onLoopEmpty: () => {
      // RIC Runtime.js: what happens when the handler's work drained the event loop
      if (completed) return;
      if (pending) return succeed(pending.result);
      if (isAsyncHandler) {
        return finish(
          true,
          toRapidResponse(
            rtErr(
              'NodeJsExit',
              'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.',
            ),
          ),
        );
      }
      return succeed(null);
    },
  };
  if (server) server.unref(); // lets 'beforeExit' fire once the user's work has drained

  let event;
  try {
    event = JSON.parse(inv.payload === undefined || inv.payload === '' ? 'null' : inv.payload);
  } catch (e) {
    fail(e);
    return;
  }
  try {
    const r = handler(event, context, callback);
    if (r && typeof r.then === 'function') r.then(succeed, fail);
  } catch (e) {
    callback(e);
  }
}
