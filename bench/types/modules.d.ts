// autocannon and express ship no types, and the project installs no @types for them: only the
// few members the bench uses are declared here.

declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    /** Called with each answer to this request; `context` is the connection's, as in setupRequest. */
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }

  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    requests?: Request[];
  }

  interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p99: number;
    total: number;
  }

  interface Result {
    requests: Histogram & { sent: number };
    latency: Histogram;
    /** Seconds. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }

  interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void;
  }

  function autocannon(options: Options): Instance;
  export default autocannon;
}

declare module 'express' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  interface Response extends ServerResponse {
    status(code: number): Response;
    json(body: unknown): Response;
  }
  type Handler = (req: IncomingMessage & { body?: unknown }, res: Response, next: (error?: unknown) => void) => void;

  interface Application {
    post(path: string, ...handlers: Handler[]): Application;
    listen(port: number, host: string, callback: () => void): Server;
  }

  interface Express {
    (): Application;
    json(options?: { limit?: string | number }): Handler;
  }

  const express: Express;
  export default express;
}
