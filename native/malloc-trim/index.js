'use strict';
// The addon node-gyp built at install (npm runs `node-gyp rebuild` for a package with binding.gyp).
module.exports = require('./build/Release/malloc_trim.node');
