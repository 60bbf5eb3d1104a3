/**
 * The events of one person, named by the ids its events carry. An event belongs to the person when its user id
 * is one of `userIds`, or when it has no user id and its anonymous id is one of `anonymousIds` — exactly how the
 * `events` view maps events to `person_id` — so the profile and the view never disagree.
 */
export interface PersonEventKeys {
  readonly userIds: readonly string[];
  readonly anonymousIds: readonly string[];
}

export interface PersonActivity {
  readonly events: number;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
}

export interface PersonEvent {
  readonly messageId: string;
  readonly type: string;
  readonly event: string | null;
  readonly name: string | null;
  readonly userId: string | null;
  readonly anonymousId: string | null;
  readonly timestamp: string;
  readonly source: string;
  readonly properties: Record<string, unknown> | null;
  readonly traits: Record<string, unknown> | null;
  /** Only `context.traits` and `context.consent`: what a profile reads from the context. */
  readonly contextTraits: Record<string, unknown> | null;
}

export interface PersonEventQuery {
  /** Call types to include; all when absent. */
  readonly types?: readonly string[];
  /** Track event names to include (other types are unaffected); all when absent. */
  readonly events?: readonly string[];
  /** Only events that carry traits (`traits` or `context.traits`). */
  readonly withTraits?: boolean;
  readonly limit: number;
  readonly order: 'oldest' | 'newest';
}

/** Ids whose events have a trait with a given value, for profile search. */
export interface TraitMatch {
  readonly userId: string | null;
  readonly anonymousId: string | null;
}

export interface ProfileRepository {
  activity(keys: PersonEventKeys): Promise<PersonActivity>;
  events(keys: PersonEventKeys, query: PersonEventQuery): Promise<PersonEvent[]>;
  /**
   * Events whose top-level trait `trait` (in `traits` or `context.traits`) equals `value` (compared as text),
   * newest first, one row per distinct (user id, anonymous id).
   */
  findByTrait(trait: string, value: string, limit: number): Promise<TraitMatch[]>;
}
