import Bowser from 'bowser';
import type { ParsedAgent } from '../store/wal-format.js';

const EMPTY: ParsedAgent = { browser: null, browser_version: null, os: null, device_type: null };
const CACHE_LIMIT = 2000;

/**
 * Parses user-agent strings with Bowser. Traffic repeats a small set of agents, so results are cached;
 * the cache is cleared when full rather than tracked per entry, which keeps the hot path to one Map lookup.
 */
export class UserAgentParser {
  private readonly cache = new Map<string, ParsedAgent>();

  parse(userAgent: string | null | undefined): ParsedAgent {
    if (!userAgent) return EMPTY;
    const cached = this.cache.get(userAgent);
    if (cached) return cached;
    const parsed = parseUncached(userAgent);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(userAgent, parsed);
    return parsed;
  }
}

function parseUncached(userAgent: string): ParsedAgent {
  try {
    const result = Bowser.parse(userAgent.slice(0, 512));
    return {
      browser: result.browser.name ?? null,
      browser_version: result.browser.version ?? null,
      os: result.os.name ?? null,
      device_type: result.platform.type ?? null,
    };
  } catch {
    return EMPTY;
  }
}
