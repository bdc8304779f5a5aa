import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MessagingPatternsError } from './errors';

const PACKAGE_NAME = 'cdk-messaging-patterns';

let packageRoot: string | undefined;

/** The folder holding this package's package.json, found from this file's location. */
function findPackageRoot(): string {
  if (packageRoot) return packageRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const name = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name;
      if (name === PACKAGE_NAME) return (packageRoot = dir);
    }
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new MessagingPatternsError(PACKAGE_NAME, [
        { code: 'package:unknown', message: `cannot find the package root above ${__dirname}` },
      ]);
    dir = parent;
  }
}

/**
 * Path of a handler bundle the kit ships pre-built: `dist/lambda/<pattern>/<handler>/index.js`.
 *
 * @param handler `<pattern>/<handler>`, e.g. `work-queue/consumer`
 */
export function handlerBundlePath(handler: string): string {
  if (!/^[a-z0-9-]+\/[a-z0-9-]+$/.test(handler)) {
    throw new MessagingPatternsError(PACKAGE_NAME, [
      { code: 'handler:format', message: `handler must look like '<pattern>/<handler>' (given '${handler}')` },
    ]);
  }
  const dir = path.join(findPackageRoot(), 'dist', 'lambda', ...handler.split('/'));
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new MessagingPatternsError(PACKAGE_NAME, [
      {
        code: 'handler:unknown',
        message:
          `the bundle for handler '${handler}' is missing at ${dir}. ` +
          'If you work on the kit itself, run `npm run build`; a published package always contains it.',
      },
    ]);
  }
  return dir;
}

/**
 * Lambda code for a handler the kit ships pre-bundled (esbuild, minified, `@aws-sdk/*` external),
 * so apps need neither esbuild nor Docker to synth.
 */
export function handlerCode(handler: string): lambda.Code {
  return lambda.Code.fromAsset(handlerBundlePath(handler));
}
