import { afterAll } from 'vitest';
import { removeScratchDirs } from './scratch.ts';

// A setup file (vitest.config.ts): runs before each test file, so the hook is that file's.
afterAll(removeScratchDirs);
