// The parts of the localtunnel client (CommonJS, untyped) that tunnel-localtunnel.ts uses.
declare module 'localtunnel/lib/Tunnel.js' {
  import { EventEmitter } from 'node:events';

  export interface TunnelInfo {
    name: string;
    url: string;
    max_conn: number;
    remote_host: string;
    remote_ip?: string;
    remote_port: number;
    local_port: number;
    local_host?: string;
  }

  export interface TunnelOptions {
    port: number;
    host: string;
    subdomain?: string;
    local_host?: string;
  }

  export default class Tunnel extends EventEmitter {
    constructor(options: TunnelOptions);
    opts: TunnelOptions;
    closed: boolean;
    url?: string;
    clientId?: string;
    _getInfo(body: unknown): TunnelInfo;
    _init(callback: (error: Error | null, info?: TunnelInfo) => void): void;
    open(callback: (error?: Error) => void): void;
    close(): void;
  }
}
