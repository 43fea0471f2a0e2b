import { contextBridge, ipcRenderer } from 'electron';
import { createMonitorBridge } from './preload-bridge.ts';

// The page's only way to the core: `window.monitor`, typed MonitorApi (shared/api.ts). This
// file exports nothing, so the sandboxed preload bundle stays a plain script.
contextBridge.exposeInMainWorld('monitor', createMonitorBridge(ipcRenderer));
