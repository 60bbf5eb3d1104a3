/**
 * Writes the demo business's tables as CSV files (RFC 4180 quoting) and its events as NDJSON.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoBusiness } from './bakery-generator.js';
import type { SegmentMessage } from './segment-message.js';

export type CsvValue = string | number | boolean | null | undefined | readonly string[];

/** One CSV field: quoted when it holds a comma, a quote, a line break or outer spaces; lists are joined by `;`. */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = Array.isArray(value) ? value.join(';') : String(value);
  if (/[",\r\n]/.test(text) || text.trim() !== text) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/** A whole CSV document with a header row; `columns` fixes the column order. Lines end with `\n`. */
export function toCsv<Row extends object>(
  rows: readonly Row[],
  columns: readonly (keyof Row & string)[],
): string {
  const lines = [columns.map((column) => csvField(column)).join(',')];
  for (const row of rows) {
    lines.push(columns.map((column) => csvField(row[column] as CsvValue)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export const PRODUCT_COLUMNS = [
  'product_id',
  'name',
  'category',
  'price',
  'currency',
  'season',
  'tags',
] as const;
export const CUSTOMER_COLUMNS = [
  'customer_id',
  'email',
  'first_name',
  'last_name',
  'phone',
  'city',
  'created_at',
  'signup_channel',
  'segment',
  'consent_analytics',
  'consent_personalisation',
  'consent_advertising',
  'consent_sale',
  'lapsed_on',
  'group_id',
] as const;
export const ORDER_LINE_COLUMNS = [
  'order_id',
  'ordered_at',
  'customer_id',
  'channel',
  'store',
  'product_id',
  'product_name',
  'category',
  'quantity',
  'unit_price',
  'line_total',
  'currency',
] as const;

export interface DemoCsvFiles {
  products: string;
  customers: string;
  orderLines: string;
}

/** Writes `products.csv`, `customers.csv` and `order_lines.csv` into `directory` (created if missing). */
export async function writeDemoCsvFiles(business: DemoBusiness, directory: string): Promise<DemoCsvFiles> {
  await mkdir(directory, { recursive: true });
  const files: DemoCsvFiles = {
    products: join(directory, 'products.csv'),
    customers: join(directory, 'customers.csv'),
    orderLines: join(directory, 'order_lines.csv'),
  };
  await writeFile(files.products, toCsv(business.products, PRODUCT_COLUMNS));
  await writeFile(files.customers, toCsv(business.customers, CUSTOMER_COLUMNS));
  await writeFile(files.orderLines, toCsv(business.orderLines, ORDER_LINE_COLUMNS));
  return files;
}

/** Streams the events as newline-delimited JSON to `path`; returns how many were written. */
export async function writeEventsNdjson(events: Iterable<SegmentMessage>, path: string): Promise<number> {
  const stream = createWriteStream(path);
  let count = 0;
  let chunk: string[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const text = chunk.join('');
    chunk = [];
    if (!stream.write(text)) await once(stream, 'drain');
  };
  try {
    for (const message of events) {
      chunk.push(`${JSON.stringify(message)}\n`);
      count++;
      if (chunk.length >= 2000) await flush();
    }
    await flush();
  } finally {
    stream.end();
    await once(stream, 'finish');
  }
  return count;
}
