export { redshiftDecoder as decoder } from './redshift-decoder.js';
