/**
 * The clients: `connect(url)` (the typed {@linkcode Database} over HTTP, for Deno, Node and
 * browsers), its errors and the conformance suite's interface; the command-line client's
 * commands, interactive mode and data files.
 *
 * @module
 */

export { connect, type ConnectOptions, DEFAULT_REQUEST_TIMEOUT_MS } from "./connect.ts";
export type {
  BulkDeleteResult,
  BulkItemError,
  BulkResult,
  ConfigureResult,
  Database,
  DatabaseHealth,
  DocumentInput,
  DropResult,
  FacetAnswer,
  FacetRequest,
  FieldDeclaration,
  HighlightRequest,
  Hit,
  HitStream,
  IndexConfiguration,
  IndexHandle,
  IndexSchema,
  IndexSummary,
  RankingSettings,
  SearchAnswer,
  SearchFooter,
  SearchRequest,
  SortKey,
  StoredDocument,
  StreamResult,
  WriteResult,
} from "./database.ts";
export {
  BadRequestError,
  ConnectionError,
  DatabaseClosedError,
  DatabaseError,
  type DatabaseErrorName,
  errorFromAnswer,
  ForbiddenError,
  NotFoundError,
  retryAfterMs,
  ServerError,
  StorageFullError,
  UnauthorizedError,
  UnavailableError,
} from "./errors.ts";
export {
  type ClientIO,
  type CommandResult,
  type Connection,
  HELP,
  runCommand,
  splitWords,
} from "./commands.ts";
export {
  type ColumnKind,
  ColumnTypes,
  type DataFile,
  DataFileError,
  type DataFormat,
  DelimitedParser,
  detectFormat,
  openDataFile,
  parseDelimited,
  readRecords,
  type Record,
  typedValue,
} from "./data_file.ts";
export { MAX_HISTORY, progressBar, repl, stdinLines } from "./repl.ts";
export { formatOutput, type Output, OUTPUT_FORMATS, type OutputFormat } from "./output.ts";
