import type { DownloadFile } from './dashboard-client.ts';

/** Hands a file to the browser as a download (the dashboard has no file system of its own). */
export function downloadFile({ filename, contentType, parts }: DownloadFile): void {
  const url = URL.createObjectURL(new Blob(parts as BlobPart[], { type: contentType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; the object URL only holds memory.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
