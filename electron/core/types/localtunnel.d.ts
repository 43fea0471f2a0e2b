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
    /** Set by _establish: emits 'open' with each tunnel socket it connects. */
    tunnelCluster?: EventEmitter;
    _getInfo(body: unknown): TunnelInfo;
    _establish(info: TunnelInfo): void;
    _init(callback: (error: Error | null, info?: TunnelInfo) => void): void;
    open(callback: (error?: Error) => void): void;
    close(): void;
  }
}
