import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * What a page served by Refinery (the dashboard, the API docs at /docs) may load: its own scripts, styles,
 * images and fonts only, no plugins, no <base> elsewhere, never inside another site's frame. The dashboard's
 * charts set styles through the DOM, which the policy allows; swagger-ui at /docs injects <style> elements, so
 * its pages alone may use inline styles (never inline scripts). Sent on every response: on JSON it costs
 * nothing, and no page can be left out by accident.
 */
function contentSecurityPolicy(inlineStyles: boolean): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
    // swagger-ui's icons are data: URLs.
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const OTHER_HEADERS = {
  // For browsers that predate frame-ancestors.
  'x-frame-options': 'DENY',
  // A JSON answer or an uploaded file is never sniffed into HTML or script.
  'x-content-type-options': 'nosniff',
  // The dashboard's URL may carry a key in its fragment on first load; no URL leaves in a Referer.
  'referrer-policy': 'no-referrer',
};
const HEADERS = { 'content-security-policy': contentSecurityPolicy(false), ...OTHER_HEADERS };
const API_DOCS_HEADERS = { 'content-security-policy': contentSecurityPolicy(true), ...OTHER_HEADERS };
const API_DOCS_PREFIX = '/docs';

/** Puts the security headers on a reply; the error handlers use it for answers given before any hook ran. */
export function applySecurityHeaders(reply: FastifyReply): void {
  // By the route that answers (the swagger-ui plugin's routes), not by the URL a client typed.
  const route = reply.request.routeOptions.url ?? '';
  const isApiDocs = route === API_DOCS_PREFIX || route.startsWith(`${API_DOCS_PREFIX}/`);
  void reply.headers(isApiDocs ? API_DOCS_HEADERS : HEADERS);
}

/** Every response the app sends carries the security headers, whatever route (or none) answers it. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every collected request, and needs no promise.
  app.addHook('onRequest', (_request, reply, done) => {
    applySecurityHeaders(reply);
    done();
  });
}
