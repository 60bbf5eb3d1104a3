/**
 * The plain JSON shape of a Segment spec message (https://segment.com/docs/connections/spec/),
 * as the demo sends it to the collector. Only the fields the demo uses are typed closely.
 */

export type SegmentMessageType = 'track' | 'identify' | 'page' | 'screen' | 'group' | 'alias';

/** Consent as Segment's consent management sends it: `context.consent.categoryPreferences`. */
export interface ConsentPreferences {
  analytics: boolean;
  personalisation: boolean;
  advertising: boolean;
  sale: boolean;
}

export interface SegmentContext {
  library?: { name: string; version: string };
  userAgent?: string;
  ip?: string;
  locale?: string;
  timezone?: string;
  page?: { path: string; url: string; title: string; referrer: string; search: string };
  campaign?: { source: string; medium: string; name: string };
  consent?: { categoryPreferences: ConsentPreferences };
  [key: string]: unknown;
}

export interface SegmentMessage {
  type: SegmentMessageType;
  messageId: string;
  /** ISO 8601, UTC. */
  timestamp: string;
  userId?: string;
  anonymousId?: string;
  /** `track` only. */
  event?: string;
  /** `page` only. */
  name?: string;
  /** `alias` only. */
  previousId?: string;
  /** `group` only. */
  groupId?: string;
  properties?: Record<string, unknown>;
  traits?: Record<string, unknown>;
  context?: SegmentContext;
}
