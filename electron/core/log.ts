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

/**
 * A value someone else chose (a sender's event type, an error that may quote one) made safe to
 * put in a log line: quoted, with every character that could end the line or steer a terminal
 * escaped — C0 controls (newlines, ESC), DEL and C1 controls (an 8-bit CSI), U+2028/U+2029,
 * which some readers take as line breaks, and bidirectional overrides that reorder what is shown.
 * Loggers write messages as they are, so a forged "\n… error receiver: …" would otherwise read
 * as a line of our own.
 */
export function logValue(value: unknown): string {
  return JSON.stringify(String(value)).replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
