/**
 * Counts the events of an export as its bytes go by, for the "Exported N events" of a download
 * whose count the dashboard cannot send first: it writes the file while it reads the history.
 * It relies on the export's shape (electron/core/export-format.ts, exportWriter): CSV is a header
 * line, then one record per event, each ended by a line break outside quotes; JSON has one event
 * per line, each line starting with `{`. test/export-format.test.ts runs it over that writer.
 * Byte by byte is safe in UTF-8: `"`, `{` and a line break never occur inside another character.
 */
export function exportCounter(format: 'csv' | 'json'): { add(chunk: Uint8Array): void; count(): number } {
  let lineBreaks = 0;
  let quoted = false;
  let lineStart = true;
  let objects = 0;
  return {
    add(chunk) {
      for (const byte of chunk) {
        if (format === 'csv') {
          if (byte === 0x22) quoted = !quoted;
          else if (byte === 0x0a && !quoted) lineBreaks++;
        } else {
          if (lineStart && byte === 0x7b) objects++;
          lineStart = byte === 0x0a;
        }
      }
    },
    count: () => (format === 'csv' ? Math.max(0, lineBreaks - 1) : objects),
  };
}
