/**
 * A row as node-postgres returns it for a read-model type T: the `Times` columns (text in T) come
 * as Date (or text), the `Numbers` columns (bigint, numeric) as text or number. The row mappers
 * turn it back into T.
 */
export type Stored<T, Times extends keyof T = never, Numbers extends keyof T = never> = Omit<T, Times | Numbers> & {
  [K in Times]: Date | string | Extract<T[K], null>;
} & { [K in Numbers]: string | number };
