'use strict';
// The addon built by the root package's postinstall (`node-gyp rebuild` in this folder).
module.exports = require('./build/Release/malloc_trim.node');
