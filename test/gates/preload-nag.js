// Preloaded (`node --require`) into the showcase's app process by the gates (test/gates/assembly.ts):
// whatever bin/app.ts registers, every App it synthesizes runs cdk-nag's AwsSolutions and Serverless
// packs as validation plugins, so the gate cannot pass because the showcase stopped registering them.
// A pack the app registered itself is not added twice. Lazy: it patches aws-cdk-lib only once the app
// loads it, and costs nothing in the other processes (npx, the CDK CLI) that inherit NODE_OPTIONS.
const Module = require('node:module');

const PACKS = { AwsSolutions: 'AwsSolutionsChecks', Serverless: 'ServerlessChecks' };
const load = Module._load;
let patched = false;

function patch(cdk) {
  const synth = cdk.App.prototype.synth;
  cdk.App.prototype.synth = function (...args) {
    const registered = new Set((this._validationPlugins ?? []).map((plugin) => plugin.name));
    const nag = require('cdk-nag');
    const missing = Object.entries(PACKS)
      .filter(([name]) => !registered.has(name))
      .map(([, pack]) => new nag[pack](this));
    if (missing.length > 0) cdk.Validations.of(this).addPlugins(...missing);
    return synth.apply(this, args);
  };
}

Module._load = function (request, ...rest) {
  const exports = load.call(this, request, ...rest);
  if (!patched && request === 'aws-cdk-lib' && exports && typeof exports.App === 'function') {
    patched = true;
    patch(exports);
  }
  return exports;
};
