import { z } from 'zod';

// The page's Content-Security-Policy forbids eval. zod would otherwise try `new Function` once,
// when the first schema is built (and fail, with an error in the console), to compile faster
// validators. Imported first by main.tsx, before any module that builds a schema.
z.config({ jitless: true });
