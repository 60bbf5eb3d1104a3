import Bowser from 'bowser';

export interface ParsedUserAgent {
  readonly browser: string | null;
  readonly browserVersion: string | null;
  readonly os: string | null;
  readonly deviceType: string | null;
}

const EMPTY: ParsedUserAgent = { browser: null, browserVersion: null, os: null, deviceType: null };
const CACHE_LIMIT = 2000;

/**
 * Parses user-agent strings with Bowser. Traffic repeats a small set of agents, so results are cached;
 * the cache is cleared when full rather than tracked per entry, which keeps the hot path to one Map lookup.
 */
export class UserAgentParser {
  private readonly cache = new Map<string, ParsedUserAgent>();

  parse(userAgent: string | null | undefined): ParsedUserAgent {
    if (!userAgent) return EMPTY;
    const cached = this.cache.get(userAgent);
    if (cached) return cached;
    const parsed = parseUncached(userAgent);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(userAgent, parsed);
    return parsed;
  }
}

function parseUncached(userAgent: string): ParsedUserAgent {
  try {
    const result = Bowser.parse(userAgent.slice(0, 512));
    return {
      browser: result.browser.name ?? null,
      browserVersion: result.browser.version ?? null,
      os: result.os.name ?? null,
      deviceType: result.platform.type ?? null,
    };
  } catch {
    return EMPTY;
  }
}
