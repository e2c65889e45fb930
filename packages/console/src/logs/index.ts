export { parseLine, componentOf, levels, type Level, type LogRow, type Component } from './parse.js';
export { LogIndex, LogQueryError, type LogQuery, type LogSearchResult } from './index-db.js';
export { LogTailer } from './tailer.js';
