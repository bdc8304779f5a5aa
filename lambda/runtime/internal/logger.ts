/**
 * The logger shape every runtime helper accepts, and how a helper picks its logger. Not a public
 * entry point: the helpers re-export the type under their own names.
 */

/** Logs warnings (and information). `console` fits; so does a Powertools `Logger`. */
export interface RuntimeLogger {
  warn(message: string, ...extra: unknown[]): void;
  info?(message: string, ...extra: unknown[]): void;
}

/** The logger a helper uses: `console` when none is given, none at all when given `null`. */
export function resolveLogger(logger: RuntimeLogger | null | undefined): RuntimeLogger | null {
  return logger === undefined ? console : logger;
}
