import { it, expect } from 'vitest';
import { captureStack, resolveCallSite } from '../../src/processing/call-site';

interface T { a: number }
const x: T = { a: 1 };
it('probe', () => {
  const holder = captureStack(); const err = new Error('here');
  console.log(JSON.stringify(resolveCallSite(holder)), err.stack?.split('\n')[1], x, typeof require, __filename);
});
