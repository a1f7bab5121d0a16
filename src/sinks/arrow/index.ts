export { arrowFileFormat, arrowStreamFormat } from './arrow-format.js';
