/**
 * Built-in lists for fake people and devices. Everything here is invented or reserved for fiction and documentation:
 * e-mail domains from RFC 2606, phone numbers from Ofcom's drama ranges, IP addresses from RFC 5737.
 */
import type { Random } from './random.js';

export const FIRST_NAMES: readonly string[] = [
  'Olivia',
  'Amelia',
  'Isla',
  'Ava',
  'Mia',
  'Ivy',
  'Lily',
  'Isabella',
  'Rosie',
  'Sophia',
  'Grace',
  'Freya',
  'Florence',
  'Willow',
  'Ella',
  'Evie',
  'Poppy',
  'Emily',
  'Harper',
  'Sienna',
  'Priya',
  'Aisha',
  'Zara',
  'Niamh',
  'Chloe',
  'Hannah',
  'Lucy',
  'Megan',
  'Sarah',
  'Rachel',
  'Noah',
  'Oliver',
  'George',
  'Arthur',
  'Muhammad',
  'Leo',
  'Harry',
  'Oscar',
  'Archie',
  'Henry',
  'Theodore',
  'Freddie',
  'Jack',
  'Charlie',
  'Thomas',
  'Alfie',
  'Jacob',
  'Samuel',
  'Daniel',
  'James',
  'Rohan',
  'Kwame',
  'Tomasz',
  'Liam',
  'Owen',
  'Rhys',
  'Callum',
  'Ethan',
  'Joseph',
  'David',
];

export const LAST_NAMES: readonly string[] = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Patel',
  'Robinson',
  'Wright',
  'Thompson',
  'Evans',
  'Walker',
  'White',
  'Roberts',
  'Green',
  'Hall',
  'Thomas',
  'Clarke',
  'Jackson',
  'Wood',
  'Harris',
  'Edwards',
  'Turner',
  'Martin',
  'Cooper',
  'Hill',
  'Ward',
  'Hughes',
  'Moore',
  'Clark',
  'King',
  'Harrison',
  'Lewis',
  'Baker',
  'Lee',
  'Allen',
  'Morris',
  'Khan',
  'Scott',
  'Watson',
  'Davis',
  'Parker',
  'James',
  'Bennett',
  'Young',
  'Phillips',
  'Richardson',
  'Mitchell',
  "O'Brien",
  'Kowalski',
  'Okafor',
  'Nguyen',
  'Singh',
  'Ahmed',
  'Murphy',
  'Campbell',
  'Ali',
  'Fernandes',
];

/** Where customers live; the shop is in Bristol. `area` is the drama-range area code used for landlines. */
export const CITIES: readonly { name: string; weight: number; area: PhoneArea }[] = [
  { name: 'Bristol', weight: 62, area: 'bristol' },
  { name: 'Bath', weight: 8, area: 'bristol' },
  { name: 'Keynsham', weight: 5, area: 'bristol' },
  { name: 'Portishead', weight: 4, area: 'bristol' },
  { name: 'Clevedon', weight: 3, area: 'bristol' },
  { name: 'Thornbury', weight: 3, area: 'bristol' },
  { name: 'Yate', weight: 3, area: 'bristol' },
  { name: 'Nailsea', weight: 3, area: 'bristol' },
  { name: 'Weston-super-Mare', weight: 3, area: 'bristol' },
  { name: 'Cardiff', weight: 3, area: 'cardiff' },
  { name: 'London', weight: 3, area: 'london' },
  { name: 'Manchester', weight: 1, area: 'manchester' },
  { name: 'Leeds', weight: 1, area: 'leeds' },
];

export type PhoneArea = 'bristol' | 'london' | 'cardiff' | 'manchester' | 'leeds' | 'mobile';

/** Ofcom's numbers reserved for drama: each prefix is followed by three digits (000–999). */
export const PHONE_PREFIXES: Readonly<Record<PhoneArea, string>> = {
  mobile: '+44 7700 900',
  bristol: '+44 117 496 0',
  london: '+44 20 7946 0',
  cardiff: '+44 29 2018 0',
  manchester: '+44 161 496 0',
  leeds: '+44 113 496 0',
};

export const EMAIL_DOMAINS: readonly string[] = ['example.com', 'example.org', 'example.net'];
const EMAIL_DOMAIN_WEIGHTS: readonly number[] = [5, 3, 2];

/** RFC 5737 documentation networks. */
export const DOCUMENTATION_NETWORKS: readonly string[] = ['192.0.2.', '198.51.100.', '203.0.113.'];

export function documentationIp(rng: Random): string {
  return `${rng.pick(DOCUMENTATION_NETWORKS)}${rng.int(1, 254)}`;
}

export interface UserAgent {
  readonly value: string;
  readonly mobile: boolean;
}

export const USER_AGENTS: readonly UserAgent[] = [
  {
    mobile: false,
    value:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  },
  {
    mobile: false,
    value:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  },
  {
    mobile: false,
    value: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  },
  {
    mobile: false,
    value:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80',
  },
  {
    mobile: true,
    value:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  },
  {
    mobile: true,
    value:
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.113 Mobile Safari/537.36',
  },
  {
    mobile: true,
    value:
      'Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  },
  {
    mobile: true,
    value:
      'Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  },
];

/** A user agent index; about 60% of visits come from phones and tablets. */
export function pickUserAgent(rng: Random): number {
  const mobile = rng.chance(0.6);
  const candidates = USER_AGENTS.map((ua, i) => (ua.mobile === mobile ? i : -1)).filter((i) => i >= 0);
  return rng.pick(candidates);
}

function emailLocalPart(rng: Random, first: string, last: string): string {
  const f = first.toLowerCase().replace(/[^a-z]/g, '');
  const l = last.toLowerCase().replace(/[^a-z]/g, '');
  switch (rng.int(0, 4)) {
    case 0:
      return `${f}.${l}`;
    case 1:
      return `${f}${l.slice(0, 1)}${rng.int(1, 99)}`;
    case 2:
      return `${f.slice(0, 1)}${l}`;
    case 3:
      return `${f}_${l}${rng.int(70, 99)}`;
    default:
      return `${l}.${f}`;
  }
}

/** Hands out unique e-mail addresses and phone numbers. */
export class ContactBook {
  private readonly emails = new Set<string>();
  private readonly phones = new Set<string>();

  email(rng: Random, first: string, last: string): string {
    const local = emailLocalPart(rng, first, last);
    const domain = rng.weighted(EMAIL_DOMAINS, EMAIL_DOMAIN_WEIGHTS);
    let candidate = `${local}@${domain}`;
    for (let n = 2; this.emails.has(candidate); n++) candidate = `${local}${n}@${domain}`;
    this.emails.add(candidate);
    return candidate;
  }

  /** A mobile number (55%) or a landline in the customer's area; unique while numbers last. */
  phone(rng: Random, area: PhoneArea): string {
    const preferred: PhoneArea = rng.chance(0.55) ? 'mobile' : area;
    const order: PhoneArea[] = [
      preferred,
      'mobile',
      area,
      'bristol',
      'london',
      'cardiff',
      'manchester',
      'leeds',
    ];
    for (const candidateArea of order) {
      for (let attempt = 0; attempt < 12; attempt++) {
        const number = `${PHONE_PREFIXES[candidateArea]}${String(rng.int(0, 999)).padStart(3, '0')}`;
        if (!this.phones.has(number)) {
          this.phones.add(number);
          return number;
        }
      }
    }
    // Every reserved number is taken (a very large demo): reuse one.
    return `${PHONE_PREFIXES[preferred]}${String(rng.int(0, 999)).padStart(3, '0')}`;
  }
}

/** Office accounts some customers order for; sent as Segment `group` calls. */
export const COMPANIES: readonly { id: string; name: string; industry: string; employees: number }[] = [
  { id: 'g_001', name: 'Harbourside Architects', industry: 'Architecture', employees: 24 },
  { id: 'g_002', name: 'Cabot Lane Legal', industry: 'Legal services', employees: 61 },
  { id: 'g_003', name: 'Floating Harbour Studios', industry: 'Media', employees: 15 },
  { id: 'g_004', name: 'Redcliffe Digital', industry: 'Software', employees: 42 },
  { id: 'g_005', name: 'Clifton Dental Practice', industry: 'Healthcare', employees: 12 },
  { id: 'g_006', name: 'Temple Quay Accountants', industry: 'Accounting', employees: 33 },
];
