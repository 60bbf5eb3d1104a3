import fc from 'fast-check';

// Generators of hostile request bodies for the collection API, built as JSON *text* so they can hold what a
// JavaScript object cannot: duplicate keys (in messages, objects inside them and the batch itself), and escapes
// of lone surrogates in any string or key. Values reach every place a message has: ids, names, properties,
// traits, context (with its traits), integrations, unknown top-level fields, batch-level context and sentAt.

export type JsonObject = Record<string, unknown>;

export const PROBE_EVENT = 'Fuzz Probe';

export interface GeneratedRequest {
  readonly url: string;
  readonly text: string;
  /** Every messageId the text holds, duplicates included (the stored set must be a subset). */
  readonly ids: readonly string[];
  /** Personal values (emails) the text holds, which must never be stored in clear. */
  readonly markers: readonly string[];
}

let counter = 0;
const nextId = () => `fz-${++counter}`;

const json = (value: unknown) => JSON.stringify(value);

/** A value present about one time in `oneIn`, else undefined. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number) =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

// Characters that are valid but break careless parsers and writers: quotes, escapes, controls, line and paragraph
// separators, combining marks, emoji, a byte-order mark, the replacement character, formula starters.
const awkwardChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'Z', '0', ' ', '-', '_', '.', ':') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('"', '\\', '/', '\n', '\t', '\u0000', '\u2028', '\u2029', '\u007f'),
  },
  { weight: 2, arbitrary: fc.constantFrom('é', 'ß', '中', '😀', '\u0301', '\ufeff', '\ufffd') },
  { weight: 1, arbitrary: fc.constantFrom('=', '+', '@', '\r') },
);
// A lone UTF-16 surrogate: JSON can escape one (`\ud800`), JavaScript reads it, some engines refuse the line.
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
const awkwardString = fc.array(awkwardChar, { maxLength: 10 }).map((chars) => chars.join(''));
const illFormedString = fc
  .tuple(awkwardString, loneSurrogate, awkwardString)
  .map(([before, surrogate, after]) => before + surrogate + after);
// Number texts JSON allows but engines read differently: negative zero, more digits than a double holds,
// exponents, underflow; and overflow, which JavaScript reads as Infinity and cannot write back.
const numberText = fc.oneof(
  fc.constantFrom('0', '-0', '5', '-5', '42.5', '1e-400', '12345678901234567890', '1E2', '0.1'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => json(value)),
  fc.integer().map(String),
);
const overflowText = fc.constantFrom('1e400', '-1e400');

const objectText = (members: readonly (readonly [string, string])[]) =>
  `{${members.map(([key, value]) => `${key}:${value}`).join(',')}}`;

// Deeper than the default limit (32) or just under it, and wide objects with many (possibly repeated) keys.
const deepText = fc
  .integer({ min: 20, max: 40 })
  .map((depth) => `${'{"n":'.repeat(depth)}1${'}'.repeat(depth)}`);
const wideText = fc
  .integer({ min: 50, max: 600 })
  .map((width) =>
    objectText(Array.from({ length: width }, (_, i) => [json(`k${i % 400}`), String(i)] as const)),
  );

/**
 * The JSON texts one message is built from. A well-formed family (awkward but valid strings, keys and numbers;
 * duplicate keys still happen) lets messages through to the store, where they are compared with what JavaScript
 * read; the hostile family adds lone surrogates, poisonous keys, overflowing numbers and too-deep values, which
 * must be refused with the field named. Messages of both kinds share requests, so a refused one must not take
 * its neighbours down with it.
 */
interface TextFamily {
  readonly string: fc.Arbitrary<string>;
  readonly scalar: fc.Arbitrary<string>;
  readonly key: fc.Arbitrary<string>;
  readonly value: fc.Arbitrary<string>;
  readonly number: fc.Arbitrary<string>;
  readonly odd: fc.Arbitrary<string>;
}

function textFamily(hostile: boolean): TextFamily {
  const string = hostile
    ? fc.oneof({ weight: 3, arbitrary: awkwardString }, { weight: 1, arbitrary: illFormedString })
    : awkwardString;
  const number = hostile
    ? fc.oneof({ weight: 4, arbitrary: numberText }, { weight: 1, arbitrary: overflowText })
    : numberText;
  const scalar = fc.oneof(
    { weight: 4, arbitrary: string.map(json) },
    { weight: 3, arbitrary: number },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
  );
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'plan', 'sku', 'total', 'qty', 'nested').map(json) },
    { weight: 2, arbitrary: string.map(json) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...(hostile ? ['__proto__', 'constructor', '', 'Email'] : ['', 'Email']))
        .map(json),
    },
  );
  const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(objectText),
  }));
  const odd = hostile ? fc.oneof(deepText, wideText) : wideText;
  return { string, scalar, key, value, number, odd };
}

const FAMILIES = { clean: textFamily(false), hostile: textFamily(true) };

// Where a personal value goes; replaced by a fresh marker per message (see withMarker).
const MARKER_SLOT = '"@marker@"';
// Placeholders a repeated key's value is drawn as, filled in when the message is assembled.
const ID_SLOT = '"@id@"';
const PERSONAL_OBJECT_SLOT = '"@object@"';
const PERSONAL_CONTEXT_SLOT = '"@context@"';

/** A `properties`/`traits` object: ordinary members, sometimes a personal field, sometimes an order total. */
function payloadObject(family: TextFamily, personalNames: readonly string[]) {
  return fc
    .record({
      members: fc.array(fc.tuple(family.key, family.value), { maxLength: 4 }),
      total: fc.option(family.number, { nil: undefined }),
      personal: fc.option(fc.constantFrom(...personalNames), { nil: undefined }),
      odd: sometimes(family.odd, 8),
    })
    .map(({ members, total, personal, odd }) => {
      const all: [string, string][] = members.map(([key, value]) => [key, value]);
      if (total !== undefined) all.push([json('total'), total]);
      if (personal !== undefined) all.push([json(personal), MARKER_SLOT]);
      if (odd !== undefined) all.push([json('odd'), odd]);
      return { text: objectText(all), personal: personal !== undefined };
    });
}

const TOP_LEVEL_DUPLICABLE = [
  'userId',
  'anonymousId',
  'event',
  'messageId',
  'properties',
  'traits',
  'context',
  'type',
];

interface MessageParts {
  readonly text: string;
  readonly ids: string[];
  readonly markers: string[];
}

function messageText(withType: boolean) {
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constant(FAMILIES.clean) },
      { weight: 1, arbitrary: fc.constant(FAMILIES.hostile) },
    )
    .chain((family) => messageOf(family, withType));
}

function messageOf(family: TextFamily, withType: boolean) {
  const { string: hostileString, value: valueText, key: keyText } = family;
  const type = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('track', 'track', 'track', 'identify', 'page', 'screen') },
    { weight: 1, arbitrary: fc.constantFrom('group', 'alias', 'bogus') },
  );
  const event = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('Order Completed', 'Product Viewed').map(json) },
    { weight: 1, arbitrary: hostileString.map(json) },
  );
  const userId = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('"u1"', '"u2"', '"gone"', '123') },
    { weight: 1, arbitrary: fc.constantFrom('""', 'null') },
    { weight: 2, arbitrary: hostileString.map(json) },
  );
  const anonymousId = fc.oneof(fc.constantFrom('"d1"', '"gone"'), hostileString.map(json));
  // A repeated key mostly carries a value of its own kind (so the message stays valid and the store must
  // agree with JavaScript on which one counts), sometimes anything at all. Ids, objects and personal values
  // in a repeated key are filled in when the message is assembled (MARKER/ID slots).
  const sameKind: Record<string, fc.Arbitrary<string>> = {
    userId,
    anonymousId,
    event,
    type: type.map(json),
    messageId: fc.constant(ID_SLOT),
    properties: fc.constant(PERSONAL_OBJECT_SLOT),
    traits: fc.constant(PERSONAL_OBJECT_SLOT),
    context: fc.constant(PERSONAL_CONTEXT_SLOT),
  };
  const duplicate = fc
    .constantFrom(...TOP_LEVEL_DUPLICABLE)
    .chain((key) =>
      fc.tuple(
        fc.constant(key),
        fc.oneof({ weight: 3, arbitrary: sameKind[key]! }, { weight: 1, arbitrary: valueText }),
        fc.boolean(),
      ),
    );
  return fc
    .record({
      type,
      event,
      userId,
      anonymousId: fc.option(anonymousId, { nil: undefined }),
      // `name` is personal in traits but not in properties (a product's name), so it is only a marker in traits.
      properties: fc.option(payloadObject(family, ['email', 'phone', 'EMAIL']), { nil: undefined }),
      traits: fc.option(payloadObject(family, ['email', 'name', 'phone', 'EMAIL']), { nil: undefined }),
      contextTraits: fc.boolean(),
      contextExtra: sometimes(valueText, 2),
      unknownField: sometimes(fc.tuple(keyText, valueText), 3),
      // Mostly real times (around the 2026 daylight-saving changes), sometimes anything at all.
      timestamp: fc.option(
        fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(
              '"2026-03-29T01:30:00+01:00"',
              '"2026-10-25T01:30:00Z"',
              '"2026-12-07T10:00:00.123Z"',
            ),
          },
          { weight: 1, arbitrary: hostileString.map(json) },
        ),
        { nil: undefined, freq: 2 },
      ),
      duplicates: fc.array(duplicate, { maxLength: 3 }),
    })
    .map((parts): MessageParts => {
      const id = nextId();
      const ids = [id];
      const markers: string[] = [];
      const marker = () => {
        const value = `pm${counter}x${markers.length}@example.org`;
        markers.push(value);
        return value;
      };
      const members: [string, string][] = [];
      if (withType) members.push([json('type'), json(parts.type)]);
      members.push([json('messageId'), json(id)]);
      members.push([json('event'), parts.event]);
      members.push([json('userId'), parts.userId]);
      if (parts.anonymousId !== undefined) members.push([json('anonymousId'), parts.anonymousId]);
      if (parts.properties) {
        members.push([json('properties'), withMarker(parts.properties, marker)]);
      }
      if (parts.traits) members.push([json('traits'), withMarker(parts.traits, marker)]);
      const context: [string, string][] = [];
      if (parts.contextTraits) context.push([json('traits'), objectText([[json('email'), json(marker())]])]);
      if (parts.contextExtra !== undefined) context.push([json('page'), parts.contextExtra]);
      if (context.length > 0) members.push([json('context'), objectText(context)]);
      if (parts.unknownField) members.push(parts.unknownField);
      if (parts.timestamp !== undefined) members.push([json('timestamp'), parts.timestamp]);
      // Repeated keys, before or after the first: JavaScript keeps the last, some engines the first.
      for (const [key, value, before] of parts.duplicates) {
        let text = value;
        if (value === ID_SLOT) {
          const other = `${id}-dup${ids.length}`;
          ids.push(other);
          text = json(other);
        } else if (value === PERSONAL_OBJECT_SLOT) {
          text = objectText([
            [json('email'), json(marker())],
            [json('total'), String(ids.length)],
          ]);
        } else if (value === PERSONAL_CONTEXT_SLOT) {
          text = objectText([[json('traits'), objectText([[json('email'), json(marker())]])]]);
        }
        if (before) members.unshift([json(key), text]);
        else members.push([json(key), text]);
      }
      return { text: objectText(members), ids, markers };
    });
}

function withMarker(payload: { text: string; personal: boolean }, marker: () => string): string {
  return payload.personal ? payload.text.replace(MARKER_SLOT, json(marker())) : payload.text;
}

/** One request to the collection API: a batch, or a single track or identify call. */
export function hostileRequest(): fc.Arbitrary<GeneratedRequest> {
  const batch = fc
    .record({
      messages: fc.array(messageText(true), { minLength: 1, maxLength: 6 }),
      // Batch-level fields apply to every message, so a hostile one refuses the whole request: rarely hostile.
      context: sometimes(fc.oneof({ weight: 5, arbitrary: FAMILIES.clean.value }, FAMILIES.hostile.value), 3),
      sentAt: sometimes(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('"2026-12-07T10:00:01Z"', '"2026-03-29T01:59:59+01:00"') },
          { weight: 1, arbitrary: awkwardString.map(json) },
          { weight: 1, arbitrary: illFormedString.map(json) },
        ),
        4,
      ),
      repeatBatch: sometimes(messageText(true), 8),
    })
    .map(({ messages, context, sentAt, repeatBatch }): GeneratedRequest => {
      const members: [string, string][] = [[json('batch'), `[${messages.map((m) => m.text).join(',')}]`]];
      if (context !== undefined) members.push([json('context'), context]);
      if (sentAt !== undefined) members.push([json('sentAt'), sentAt]);
      const all = [...messages];
      // A second `batch` key: JavaScript reads this one, an engine keeping the first would read the other.
      if (repeatBatch) {
        members.push([json('batch'), `[${repeatBatch.text}]`]);
        all.push(repeatBatch);
      }
      return {
        url: '/v1/batch',
        text: objectText(members),
        ids: all.flatMap((m) => m.ids),
        markers: all.flatMap((m) => m.markers),
      };
    });
  const single = fc.tuple(fc.constantFrom('/v1/track', '/v1/identify'), messageText(false)).map(
    ([url, message]): GeneratedRequest => ({
      url,
      text: message.text,
      ids: message.ids,
      markers: message.markers,
    }),
  );
  return fc.oneof({ weight: 3, arbitrary: batch }, { weight: 2, arbitrary: single });
}

/** The messages of a request as JavaScript reads its text. */
export function messagesOf(request: GeneratedRequest): unknown[] {
  const body = JSON.parse(request.text) as unknown;
  if (request.url !== '/v1/batch') return [body];
  const batch = (body as JsonObject | null)?.batch;
  return Array.isArray(batch) ? batch : [];
}
