/**
 * A consumed-capacity meter for a DynamoDB client: a client middleware that asks every request that
 * supports it for `ReturnConsumedCapacity: 'INDEXES'` and sums the read and write units of the
 * responses per table and per index. Used by the bench and the tests, and usable in production
 * (log a snapshot per invocation) to see what the state layout costs.
 *
 * Measured vs computed. Every figure is taken from the response (`measured`) except:
 * - TransactWriteItems when `transactions: 'computed'` (the default): DynamoDB Local misreports
 *   them (about 4 × one item's units per transaction, whatever the number of items), so the meter
 *   computes them from the request by AWS's rules: item size = sum of attribute name + value bytes
 *   ({@link itemBytes}), one write unit per started KB, two in a transaction; plus, per global
 *   secondary index whose key attributes the item has, one write of the index entry (keys-only:
 *   table and index key attributes). A Delete, Update or ConditionCheck in a transaction is
 *   counted as a 1 KB item (its size is not in the request).
 *   Against real DynamoDB pass `transactions: 'measured'`.
 * - A conditional write that fails (ConditionalCheckFailedException): AWS still charges it (the
 *   existing item's size, at least one unit), the response carries no figure; counted as the
 *   request item's units (PutItem) or one unit.
 * The computed index writes are a model: AWS charges two writes when an index key value changes
 * (delete + put), one when it appears or disappears, none when neither keys nor projected
 * attributes change; the request alone cannot tell, so one write per index the item is in is counted.
 *
 * Sources:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';

/** Commands that accept `ReturnConsumedCapacity`. */
export const CAPACITY_COMMANDS = [
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactGetItemsCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
] as const;
const READ_COMMANDS: ReadonlySet<string> = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
const SUPPORTED: ReadonlySet<string> = new Set(CAPACITY_COMMANDS);

/** Where a figure comes from. */
export const CAPACITY_SOURCES = ['measured', 'computed'] as const;
/** One of {@link CAPACITY_SOURCES}. */
export type CapacitySource = (typeof CAPACITY_SOURCES)[number];

/** Units by source. */
export interface Units {
  measured: number;
  computed: number;
}

/** Read and write units of one table or one index of it. */
export interface CapacityLine {
  readonly table: string;
  /** Index name; absent for the table itself. */
  readonly index?: string;
  readonly read: Units;
  readonly write: Units;
}

/** Key attributes of a table's global secondary indexes (for the computed index writes). */
export interface TableShape {
  /** The table's own key attribute names. */
  readonly keys: readonly string[];
  readonly indexes: readonly { readonly name: string; readonly keys: readonly string[] }[];
}

/** Options of {@link meterCapacity}. */
export interface MeterOptions {
  /** How TransactWriteItems is counted (see the module comment); default 'computed'. */
  readonly transactions?: CapacitySource;
  /** Table shapes by table name; a table not listed is described (DescribeTable) once, on first need. */
  readonly tables?: Readonly<Record<string, TableShape>>;
}

/** The meter on one client. */
export interface CapacityMeter {
  /** Every table and index seen, tables first. */
  lines(): CapacityLine[];
  /** Sums over every line. */
  totals(): { read: Units; write: Units };
  /** Requests seen per command. */
  readonly requests: Map<string, number>;
  reset(): void;
}

const KB = 1024;

/** Size of a number attribute value: 1 byte per two significant digits, plus 1. */
function numberBytes(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size in bytes of one attribute value by AWS's rules (without its name). */
export function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((a, s) => a + Buffer.byteLength(s, 'utf8'), 0);
  if (v.NS !== undefined) return v.NS.reduce((a, s) => a + numberBytes(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((a, b) => a + b.byteLength, 0);
  if (v.L !== undefined) return 3 + v.L.reduce((a, e) => a + valueBytes(e) + 1, 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + Buffer.byteLength(k, 'utf8') + valueBytes(e) + 1, 0);
  return 0;
}

/**
 * Item size by AWS's rules: the sum of every attribute's name and value bytes (lists and maps 3
 * bytes of overhead plus 1 per element).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemBytes(item: Readonly<Record<string, AttributeValue>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k, 'utf8') + valueBytes(v);
  return n;
}

/** Write units of an item: one per started KB, at least one. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KB));
}

/**
 * Write units a TransactWriteItems request consumes by AWS's rules, per table and index (see the
 * module comment): 2 × the item's units per action, plus one index write per index the item is in.
 */
export function transactionWriteUnits(items: readonly TransactWriteItem[], shapes: ReadonlyMap<string, TableShape>): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, n: number): void => void out.set(key, (out.get(key) ?? 0) + n);
  for (const a of items) {
    const put = a.Put;
    const table = put?.TableName ?? a.Update?.TableName ?? a.Delete?.TableName ?? a.ConditionCheck?.TableName;
    if (!table) continue;
    if (!put?.Item) {
      add(table, 2 * writeUnits(KB));
      continue;
    }
    add(table, 2 * writeUnits(itemBytes(put.Item)));
    const shape = shapes.get(table);
    for (const index of shape?.indexes ?? []) {
      if (!index.keys.every((k) => put.Item![k] !== undefined)) continue;
      const entry: Record<string, AttributeValue> = {};
      for (const k of [...shape!.keys, ...index.keys]) entry[k] = put.Item[k]!;
      add(`${table}\u0000${index.name}`, writeUnits(itemBytes(entry)));
    }
  }
  return out;
}

async function describe(client: DynamoDBClient, table: string): Promise<TableShape> {
  const t = (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  return {
    keys: (t?.KeySchema ?? []).map((k) => k.AttributeName!),
    indexes: (t?.GlobalSecondaryIndexes ?? []).map((g) => ({ name: g.IndexName!, keys: (g.KeySchema ?? []).map((k) => k.AttributeName!) })),
  };
}

/**
 * Adds the meter to `client` (a middleware at the initialize step; every `send` through the client
 * is metered, the SDK's own retries once). One meter per client: a second one replaces the first.
 */
export function meterCapacity(client: DynamoDBClient, options: MeterOptions = {}): CapacityMeter {
  const transactions = options.transactions ?? 'computed';
  const shapes = new Map<string, TableShape>(Object.entries(options.tables ?? {}));
  const byKey = new Map<string, CapacityLine>();
  const requests = new Map<string, number>();
  const line = (table: string, index?: string): CapacityLine => {
    const key = index === undefined ? table : `${table}\u0000${index}`;
    let l = byKey.get(key);
    if (!l) {
      l = { table, ...(index !== undefined ? { index } : {}), read: { measured: 0, computed: 0 }, write: { measured: 0, computed: 0 } };
      byKey.set(key, l);
    }
    return l;
  };
  const record = (command: string, cc: ConsumedCapacity): void => {
    const table = cc.TableName ?? 'unknown';
    const kind = READ_COMMANDS.has(command) ? 'read' : 'write';
    // INDEXES gives the table's and each index's part; TOTAL (or an emulator) only the sum.
    const tablePart = cc.Table?.CapacityUnits ?? (cc.GlobalSecondaryIndexes || cc.LocalSecondaryIndexes ? 0 : (cc.CapacityUnits ?? 0));
    line(table)[kind].measured += tablePart;
    for (const [index, c] of Object.entries({ ...cc.GlobalSecondaryIndexes, ...cc.LocalSecondaryIndexes })) line(table, index)[kind].measured += c.CapacityUnits ?? 0;
  };
  const shapesFor = async (tables: Iterable<string>): Promise<ReadonlyMap<string, TableShape>> => {
    for (const t of tables) if (!shapes.has(t)) shapes.set(t, await describe(client, t));
    return shapes;
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      requests.set(command, (requests.get(command) ?? 0) + 1);
      if (!SUPPORTED.has(command)) return await next(args);
      const input: Record<string, unknown> = { ...(args.input as Record<string, unknown>), ReturnConsumedCapacity: 'INDEXES' };
      const computeTx = command === 'TransactWriteItemsCommand' && transactions === 'computed';
      let out;
      try {
        out = await next({ ...args, input });
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException && typeof input.TableName === 'string') {
          const item = input.Item as Record<string, AttributeValue> | undefined;
          line(input.TableName).write.computed += item ? writeUnits(itemBytes(item)) : 1;
        }
        throw err;
      }
      if (computeTx) {
        const items = (input.TransactItems ?? []) as TransactWriteItem[];
        const tables = items.flatMap((a) => [a.Put?.TableName, a.Update?.TableName, a.Delete?.TableName, a.ConditionCheck?.TableName].filter((t): t is string => !!t));
        for (const [key, units] of transactionWriteUnits(items, await shapesFor(new Set(tables)))) {
          const [table, index] = key.split('\u0000') as [string, string | undefined];
          line(table, index).write.computed += units;
        }
      } else {
        const cc = (out.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
        for (const c of Array.isArray(cc) ? cc : cc ? [cc] : []) record(command, c);
      }
      return out;
    },
    { step: 'initialize', name: 'klaxonCapacityMeter', override: true },
  );

  const lines = (): CapacityLine[] => [...byKey.values()].sort((a, b) => a.table.localeCompare(b.table) || (a.index ?? '').localeCompare(b.index ?? ''));
  return {
    lines,
    totals: () => {
      const t = { read: { measured: 0, computed: 0 }, write: { measured: 0, computed: 0 } };
      for (const l of byKey.values()) {
        t.read.measured += l.read.measured;
        t.read.computed += l.read.computed;
        t.write.measured += l.write.measured;
        t.write.computed += l.write.computed;
      }
      return t;
    },
    requests,
    reset: () => {
      byKey.clear();
      requests.clear();
    },
  };
}

/** Text of a meter's lines: `table[/index] read R (measured) write W (m measured + c computed)`. */
export function formatCapacity(lines: readonly CapacityLine[]): string {
  const part = (u: Units): string =>
    u.computed === 0 ? `${u.measured} (measured)` : u.measured === 0 ? `${u.computed} (computed)` : `${u.measured + u.computed} (${u.measured} measured + ${u.computed} computed)`;
  return lines.map((l) => `${l.table}${l.index ? `/${l.index}` : ''}: read ${part(l.read)}, write ${part(l.write)}`).join('\n');
}
