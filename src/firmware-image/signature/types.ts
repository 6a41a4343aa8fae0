/** Where something sits in the uploaded file. */
export interface ByteRange {
  offset: number;
  length: number;
}
