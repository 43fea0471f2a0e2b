/** Where core modules report what happened. Every line names its scope (receiver, store, …). */
export interface Logger {
  info(scope: string, message: string): void;
  warn(scope: string, message: string): void;
  error(scope: string, message: string): void;
}

export type LogLevel = 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };

/** A logger that writes `level scope: message` lines at or above `minLevel`. */
export function createLogger(write: (line: string) => void, minLevel: LogLevel = 'info'): Logger {
  const at = (level: LogLevel) => (scope: string, message: string) => {
    if (RANK[level] >= RANK[minLevel]) write(`${new Date().toISOString()} ${level} ${scope}: ${message}`);
  };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
