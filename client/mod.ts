/**
 * The command-line client: commands, the interactive mode, and data files.
 *
 * @module
 */

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
