export { okeraDecoder as decoder } from './okera-decoder.js';
