/**
 * Row ids (images, events, tokens) are PostgreSQL `integer` columns: 1 … 2^31−1. A number outside that range is
 * no row's id; sent to PostgreSQL it is an error instead of "not found", so it never gets that far.
 */
export const MAX_ROW_ID = 2 ** 31 - 1;

export function isRowId(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_ROW_ID;
}
