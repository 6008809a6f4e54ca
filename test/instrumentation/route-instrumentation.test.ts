import { describe, expect, it } from 'vitest';
import { expressRoute } from '../../src/instrumentation/route-instrumentation';

describe('expressRoute', () => {
  it.each([
    ['', '/members/:slug/payments', '/members/:slug/payments'],
    [undefined, '/health', '/health'],
    ['/members', '/:slug/payments', '/members/:slug/payments'],
    ['/', '/:slug', '/:slug'],
    ['/api', /^\/x$/, undefined],
    ['/api', ['/a', '/b'], undefined],
  ])('mounted at %s, route %s -> %s', (baseUrl, path, expected) => {
    expect(expressRoute(baseUrl, path)).toBe(expected);
  });
});
