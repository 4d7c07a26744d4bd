import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({

/***/ 251:
/***/ (function(module) {

/**
  * This file contains the Bottleneck library (MIT), compiled to ES2017, and without Clustering support.
  * https://github.com/SGrondin/bottleneck
  */
(function (global, factory) {
	 true ? module.exports = factory() :
	0;
}(this, (function () { 'use strict';

	var commonjsGlobal = typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : typeof global !== 'undefined' ? global : typeof self !== 'undefined' ? self : {};

	function getCjsExportFromNamespace (n) {
		return n && n['default'] || n;
	}

	var load = function(received, defaults, onto = {}) {
	  var k, ref, v;
	  for (k in defaults) {
	    v = defaults[k];
	    onto[k] = (ref = received[k]) != null ? ref : v;
	  }
	  return onto;
	};

	var overwrite = function(received, defaults, onto = {}) {
	  var k, v;
	  for (k in received) {
	    v = received[k];
	    if (defaults[k] !== void 0) {
	      onto[k] = v;
	    }
	  }
	  return onto;
	};

	var parser = {
		load: load,
		overwrite: overwrite
	};

	var DLList;

	DLList = class DLList {
	  constructor(incr, decr) {
	    this.incr = incr;
	    this.decr = decr;
	    this._first = null;
	    this._last = null;
	    this.length = 0;
	  }

	  push(value) {
	    var node;
	    this.length++;
	    if (typeof this.incr === "function") {
	      this.incr();
	    }
	    node = {
	      value,
	      prev: this._last,
	      next: null
	    };
	    if (this._last != null) {
	      this._last.next = node;
	      this._last = node;
	    } else {
	      this._first = this._last = node;
	    }
	    return void 0;
	  }

	  shift() {
	    var value;
	    if (this._first == null) {
	      return;
	    } else {
	      this.length--;
	      if (typeof this.decr === "function") {
	        this.decr();
	      }
	    }
	    value = this._first.value;
	    if ((this._first = this._first.next) != null) {
	      this._first.prev = null;
	    } else {
	      this._last = null;
	    }
	    return value;
	  }

	  first() {
	    if (this._first != null) {
	      return this._first.value;
	    }
	  }

	  getArray() {
	    var node, ref, results;
	    node = this._first;
	    results = [];
	    while (node != null) {
	      results.push((ref = node, node = node.next, ref.value));
	    }
	    return results;
	  }

	  forEachShift(cb) {
	    var node;
	    node = this.shift();
	    while (node != null) {
	      (cb(node), node = this.shift());
	    }
	    return void 0;
	  }

	  debug() {
	    var node, ref, ref1, ref2, results;
	    node = this._first;
	    results = [];
	    while (node != null) {
	      results.push((ref = node, node = node.next, {
	        value: ref.value,
	        prev: (ref1 = ref.prev) != null ? ref1.value : void 0,
	        next: (ref2 = ref.next) != null ? ref2.value : void 0
	      }));
	    }
	    return results;
	  }

	};

	var DLList_1 = DLList;

	var Events;

	Events = class Events {
	  constructor(instance) {
	    this.instance = instance;
	    this._events = {};
	    if ((this.instance.on != null) || (this.instance.once != null) || (this.instance.removeAllListeners != null)) {
	      throw new Error("An Emitter already exists for this object");
	    }
	    this.instance.on = (name, cb) => {
	      return this._addListener(name, "many", cb);
	    };
	    this.instance.once = (name, cb) => {
	      return this._addListener(name, "once", cb);
	    };
	    this.instance.removeAllListeners = (name = null) => {
	      if (name != null) {
	        return delete this._events[name];
	      } else {
	        return this._events = {};
	      }
	    };
	  }

	  _addListener(name, status, cb) {
	    var base;
	    if ((base = this._events)[name] == null) {
	      base[name] = [];
	    }
	    this._events[name].push({cb, status});
	    return this.instance;
	  }

	  listenerCount(name) {
	    if (this._events[name] != null) {
	      return this._events[name].length;
	    } else {
	      return 0;
	    }
	  }

	  async trigger(name, ...args) {
	    var e, promises;
	    try {
	      if (name !== "debug") {
	        this.trigger("debug", `Event triggered: ${name}`, args);
	      }
	      if (this._events[name] == null) {
	        return;
	      }
	      this._events[name] = this._events[name].filter(function(listener) {
	        return listener.status !== "none";
	      });
	      promises = this._events[name].map(async(listener) => {
	        var e, returned;
	        if (listener.status === "none") {
	          return;
	        }
	        if (listener.status === "once") {
	          listener.status = "none";
	        }
	        try {
	          returned = typeof listener.cb === "function" ? listener.cb(...args) : void 0;
	          if (typeof (returned != null ? returned.then : void 0) === "function") {
	            return (await returned);
	          } else {
	            return returned;
	          }
	        } catch (error) {
	          e = error;
	          {
	            this.trigger("error", e);
	          }
	          return null;
	        }
	      });
	      return ((await Promise.all(promises))).find(function(x) {
	        return x != null;
	      });
	    } catch (error) {
	      e = error;
	      {
	        this.trigger("error", e);
	      }
	      return null;
	    }
	  }

	};

	var Events_1 = Events;

	var DLList$1, Events$1, Queues;

	DLList$1 = DLList_1;

	Events$1 = Events_1;

	Queues = class Queues {
	  constructor(num_priorities) {
	    var i;
	    this.Events = new Events$1(this);
	    this._length = 0;
	    this._lists = (function() {
	      var j, ref, results;
	      results = [];
	      for (i = j = 1, ref = num_priorities; (1 <= ref ? j <= ref : j >= ref); i = 1 <= ref ? ++j : --j) {
	        results.push(new DLList$1((() => {
	          return this.incr();
	        }), (() => {
	          return this.decr();
	        })));
	      }
	      return results;
	    }).call(this);
	  }

	  incr() {
	    if (this._length++ === 0) {
	      return this.Events.trigger("leftzero");
	    }
	  }

	  decr() {
	    if (--this._length === 0) {
	      return this.Events.trigger("zero");
	    }
	  }

	  push(job) {
	    return this._lists[job.options.priority].push(job);
	  }

	  queued(priority) {
	    if (priority != null) {
	      return this._lists[priority].length;
	    } else {
	      return this._length;
	    }
	  }

	  shiftAll(fn) {
	    return this._lists.forEach(function(list) {
	      return list.forEachShift(fn);
	    });
	  }

	  getFirst(arr = this._lists) {
	    var j, len, list;
	    for (j = 0, len = arr.length; j < len; j++) {
	      list = arr[j];
	      if (list.length > 0) {
	        return list;
	      }
	    }
	    return [];
	  }

	  shiftLastFrom(priority) {
	    return this.getFirst(this._lists.slice(priority).reverse()).shift();
	  }

	};

	var Queues_1 = Queues;

	var BottleneckError;

	BottleneckError = class BottleneckError extends Error {};

	var BottleneckError_1 = BottleneckError;

	var BottleneckError$1, DEFAULT_PRIORITY, Job, NUM_PRIORITIES, parser$1;

	NUM_PRIORITIES = 10;

	DEFAULT_PRIORITY = 5;

	parser$1 = parser;

	BottleneckError$1 = BottleneckError_1;

	Job = class Job {
	  constructor(task, args, options, jobDefaults, rejectOnDrop, Events, _states, Promise) {
	    this.task = task;
	    this.args = args;
	    this.rejectOnDrop = rejectOnDrop;
	    this.Events = Events;
	    this._states = _states;
	    this.Promise = Promise;
	    this.options = parser$1.load(options, jobDefaults);
	    this.options.priority = this._sanitizePriority(this.options.priority);
	    if (this.options.id === jobDefaults.id) {
	      this.options.id = `${this.options.id}-${this._randomIndex()}`;
	    }
	    this.promise = new this.Promise((_resolve, _reject) => {
	      this._resolve = _resolve;
	      this._reject = _reject;
	    });
	    this.retryCount = 0;
	  }

	  _sanitizePriority(priority) {
	    var sProperty;
	    sProperty = ~~priority !== priority ? DEFAULT_PRIORITY : priority;
	    if (sProperty < 0) {
	      return 0;
	    } else if (sProperty > NUM_PRIORITIES - 1) {
	      return NUM_PRIORITIES - 1;
	    } else {
	      return sProperty;
	    }
	  }

	  _randomIndex() {
	    return Math.random().toString(36).slice(2);
	  }

	  doDrop({error, message = "This job has been dropped by Bottleneck"} = {}) {
	    if (this._states.remove(this.options.id)) {
	      if (this.rejectOnDrop) {
	        this._reject(error != null ? error : new BottleneckError$1(message));
	      }
	      this.Events.trigger("dropped", {args: this.args, options: this.options, task: this.task, promise: this.promise});
	      return true;
	    } else {
	      return false;
	    }
	  }

	  _assertStatus(expected) {
	    var status;
	    status = this._states.jobStatus(this.options.id);
	    if (!(status === expected || (expected === "DONE" && status === null))) {
	      throw new BottleneckError$1(`Invalid job status ${status}, expected ${expected}. Please open an issue at https://github.com/SGrondin/bottleneck/issues`);
	    }
	  }

	  doReceive() {
	    this._states.start(this.options.id);
	    return this.Events.trigger("received", {args: this.args, options: this.options});
	  }

	  doQueue(reachedHWM, blocked) {
	    this._assertStatus("RECEIVED");
	    this._states.next(this.options.id);
	    return this.Events.trigger("queued", {args: this.args, options: this.options, reachedHWM, blocked});
	  }

	  doRun() {
	    if (this.retryCount === 0) {
	      this._assertStatus("QUEUED");
	      this._states.next(this.options.id);
	    } else {
	      this._assertStatus("EXECUTING");
	    }
	    return this.Events.trigger("scheduled", {args: this.args, options: this.options});
	  }

	  async doExecute(chained, clearGlobalState, run, free) {
	    var error, eventInfo, passed;
	    if (this.retryCount === 0) {
	      this._assertStatus("RUNNING");
	      this._states.next(this.options.id);
	    } else {
	      this._assertStatus("EXECUTING");
	    }
	    eventInfo = {args: this.args, options: this.options, retryCount: this.retryCount};
	    this.Events.trigger("executing", eventInfo);
	    try {
	      passed = (await (chained != null ? chained.schedule(this.options, this.task, ...this.args) : this.task(...this.args)));
	      if (clearGlobalState()) {
	        this.doDone(eventInfo);
	        await free(this.options, eventInfo);
	        this._assertStatus("DONE");
	        return this._resolve(passed);
	      }
	    } catch (error1) {
	      error = error1;
	      return this._onFailure(error, eventInfo, clearGlobalState, run, free);
	    }
	  }

	  doExpire(clearGlobalState, run, free) {
	    var error, eventInfo;
	    if (this._states.jobStatus(this.options.id === "RUNNING")) {
	      this._states.next(this.options.id);
	    }
	    this._assertStatus("EXECUTING");
	    eventInfo = {args: this.args, options: this.options, retryCount: this.retryCount};
	    error = new BottleneckError$1(`This job timed out after ${this.options.expiration} ms.`);
	    return this._onFailure(error, eventInfo, clearGlobalState, run, free);
	  }

	  async _onFailure(error, eventInfo, clearGlobalState, run, free) {
	    var retry, retryAfter;
	    if (clearGlobalState()) {
	      retry = (await this.Events.trigger("failed", error, eventInfo));
	      if (retry != null) {
	        retryAfter = ~~retry;
	        this.Events.trigger("retry", `Retrying ${this.options.id} after ${retryAfter} ms`, eventInfo);
	        this.retryCount++;
	        return run(retryAfter);
	      } else {
	        this.doDone(eventInfo);
	        await free(this.options, eventInfo);
	        this._assertStatus("DONE");
	        return this._reject(error);
	      }
	    }
	  }

	  doDone(eventInfo) {
	    this._assertStatus("EXECUTING");
	    this._states.next(this.options.id);
	    return this.Events.trigger("done", eventInfo);
	  }

	};

	var Job_1 = Job;

	var BottleneckError$2, LocalDatastore, parser$2;

	parser$2 = parser;

	BottleneckError$2 = BottleneckError_1;

	LocalDatastore = class LocalDatastore {
	  constructor(instance, storeOptions, storeInstanceOptions) {
	    this.instance = instance;
	    this.storeOptions = storeOptions;
	    this.clientId = this.instance._randomIndex();
	    parser$2.load(storeInstanceOptions, storeInstanceOptions, this);
	    this._nextRequest = this._lastReservoirRefresh = this._lastReservoirIncrease = Date.now();
	    this._running = 0;
	    this._done = 0;
	    this._unblockTime = 0;
	    this.ready = this.Promise.resolve();
	    this.clients = {};
	    this._startHeartbeat();
	  }

	  _startHeartbeat() {
	    var base;
	    if ((this.heartbeat == null) && (((this.storeOptions.reservoirRefreshInterval != null) && (this.storeOptions.reservoirRefreshAmount != null)) || ((this.storeOptions.reservoirIncreaseInterval != null) && (this.storeOptions.reservoirIncreaseAmount != null)))) {
	      return typeof (base = (this.heartbeat = setInterval(() => {
	        var amount, incr, maximum, now, reservoir;
	        now = Date.now();
	        if ((this.storeOptions.reservoirRefreshInterval != null) && now >= this._lastReservoirRefresh + this.storeOptions.reservoirRefreshInterval) {
	          this._lastReservoirRefresh = now;
	          this.storeOptions.reservoir = this.storeOptions.reservoirRefreshAmount;
	          this.instance._drainAll(this.computeCapacity());
	        }
	        if ((this.storeOptions.reservoirIncreaseInterval != null) && now >= this._lastReservoirIncrease + this.storeOptions.reservoirIncreaseInterval) {
	          ({
	            reservoirIncreaseAmount: amount,
	            reservoirIncreaseMaximum: maximum,
	            reservoir
	          } = this.storeOptions);
	          this._lastReservoirIncrease = now;
	          incr = maximum != null ? Math.min(amount, maximum - reservoir) : amount;
	          if (incr > 0) {
	            this.storeOptions.reservoir += incr;
	            return this.instance._drainAll(this.computeCapacity());
	          }
	        }
	      }, this.heartbeatInterval))).unref === "function" ? base.unref() : void 0;
	    } else {
	      return clearInterval(this.heartbeat);
	    }
	  }

	  async __publish__(message) {
	    await this.yieldLoop();
	    return this.instance.Events.trigger("message", message.toString());
	  }

	  async __disconnect__(flush) {
	    await this.yieldLoop();
	    clearInterval(this.heartbeat);
	    return this.Promise.resolve();
	  }

	  yieldLoop(t = 0) {
	    return new this.Promise(function(resolve, reject) {
	      return setTimeout(resolve, t);
	    });
	  }

	  computePenalty() {
	    var ref;
	    return (ref = this.storeOptions.penalty) != null ? ref : (15 * this.storeOptions.minTime) || 5000;
	  }

	  async __updateSettings__(options) {
	    await this.yieldLoop();
	    parser$2.overwrite(options, options, this.storeOptions);
	    this._startHeartbeat();
	    this.instance._drainAll(this.computeCapacity());
	    return true;
	  }

	  async __running__() {
	    await this.yieldLoop();
	    return this._running;
	  }

	  async __queued__() {
	    await this.yieldLoop();
	    return this.instance.queued();
	  }

	  async __done__() {
	    await this.yieldLoop();
	    return this._done;
	  }

	  async __groupCheck__(time) {
	    await this.yieldLoop();
	    return (this._nextRequest + this.timeout) < time;
	  }

	  computeCapacity() {
	    var maxConcurrent, reservoir;
	    ({maxConcurrent, reservoir} = this.storeOptions);
	    if ((maxConcurrent != null) && (reservoir != null)) {
	      return Math.min(maxConcurrent - this._running, reservoir);
	    } else if (maxConcurrent != null) {
	      return maxConcurrent - this._running;
	    } else if (reservoir != null) {
	      return reservoir;
	    } else {
	      return null;
	    }
	  }

	  conditionsCheck(weight) {
	    var capacity;
	    capacity = this.computeCapacity();
	    return (capacity == null) || weight <= capacity;
	  }

	  async __incrementReservoir__(incr) {
	    var reservoir;
	    await this.yieldLoop();
	    reservoir = this.storeOptions.reservoir += incr;
	    this.instance._drainAll(this.computeCapacity());
	    return reservoir;
	  }

	  async __currentReservoir__() {
	    await this.yieldLoop();
	    return this.storeOptions.reservoir;
	  }

	  isBlocked(now) {
	    return this._unblockTime >= now;
	  }

	  check(weight, now) {
	    return this.conditionsCheck(weight) && (this._nextRequest - now) <= 0;
	  }

	  async __check__(weight) {
	    var now;
	    await this.yieldLoop();
	    now = Date.now();
	    return this.check(weight, now);
	  }

	  async __register__(index, weight, expiration) {
	    var now, wait;
	    await this.yieldLoop();
	    now = Date.now();
	    if (this.conditionsCheck(weight)) {
	      this._running += weight;
	      if (this.storeOptions.reservoir != null) {
	        this.storeOptions.reservoir -= weight;
	      }
	      wait = Math.max(this._nextRequest - now, 0);
	      this._nextRequest = now + wait + this.storeOptions.minTime;
	      return {
	        success: true,
	        wait,
	        reservoir: this.storeOptions.reservoir
	      };
	    } else {
	      return {
	        success: false
	      };
	    }
	  }

	  strategyIsBlock() {
	    return this.storeOptions.strategy === 3;
	  }

	  async __submit__(queueLength, weight) {
	    var blocked, now, reachedHWM;
	    await this.yieldLoop();
	    if ((this.storeOptions.maxConcurrent != null) && weight > this.storeOptions.maxConcurrent) {
	      throw new BottleneckError$2(`Impossible to add a job having a weight of ${weight} to a limiter having a maxConcurrent setting of ${this.storeOptions.maxConcurrent}`);
	    }
	    now = Date.now();
	    reachedHWM = (this.storeOptions.highWater != null) && queueLength === this.storeOptions.highWater && !this.check(weight, now);
	    blocked = this.strategyIsBlock() && (reachedHWM || this.isBlocked(now));
	    if (blocked) {
	      this._unblockTime = now + this.computePenalty();
	      this._nextRequest = this._unblockTime + this.storeOptions.minTime;
	      this.instance._dropAllQueued();
	    }
	    return {
	      reachedHWM,
	      blocked,
	      strategy: this.storeOptions.strategy
	    };
	  }

	  async __free__(index, weight) {
	    await this.yieldLoop();
	    this._running -= weight;
	    this._done += weight;
	    this.instance._drainAll(this.computeCapacity());
	    return {
	      running: this._running
	    };
	  }

	};

	var LocalDatastore_1 = LocalDatastore;

	var BottleneckError$3, States;

	BottleneckError$3 = BottleneckError_1;

	States = class States {
	  constructor(status1) {
	    this.status = status1;
	    this._jobs = {};
	    this.counts = this.status.map(function() {
	      return 0;
	    });
	  }

	  next(id) {
	    var current, next;
	    current = this._jobs[id];
	    next = current + 1;
	    if ((current != null) && next < this.status.length) {
	      this.counts[current]--;
	      this.counts[next]++;
	      return this._jobs[id]++;
	    } else if (current != null) {
	      this.counts[current]--;
	      return delete this._jobs[id];
	    }
	  }

	  start(id) {
	    var initial;
	    initial = 0;
	    this._jobs[id] = initial;
	    return this.counts[initial]++;
	  }

	  remove(id) {
	    var current;
	    current = this._jobs[id];
	    if (current != null) {
	      this.counts[current]--;
	      delete this._jobs[id];
	    }
	    return current != null;
	  }

	  jobStatus(id) {
	    var ref;
	    return (ref = this.status[this._jobs[id]]) != null ? ref : null;
	  }

	  statusJobs(status) {
	    var k, pos, ref, results, v;
	    if (status != null) {
	      pos = this.status.indexOf(status);
	      if (pos < 0) {
	        throw new BottleneckError$3(`status must be one of ${this.status.join(', ')}`);
	      }
	      ref = this._jobs;
	      results = [];
	      for (k in ref) {
	        v = ref[k];
	        if (v === pos) {
	          results.push(k);
	        }
	      }
	      return results;
	    } else {
	      return Object.keys(this._jobs);
	    }
	  }

	  statusCounts() {
	    return this.counts.reduce(((acc, v, i) => {
	      acc[this.status[i]] = v;
	      return acc;
	    }), {});
	  }

	};

	var States_1 = States;

	var DLList$2, Sync;

	DLList$2 = DLList_1;

	Sync = class Sync {
	  constructor(name, Promise) {
	    this.schedule = this.schedule.bind(this);
	    this.name = name;
	    this.Promise = Promise;
	    this._running = 0;
	    this._queue = new DLList$2();
	  }

	  isEmpty() {
	    return this._queue.length === 0;
	  }

	  async _tryToRun() {
	    var args, cb, error, reject, resolve, returned, task;
	    if ((this._running < 1) && this._queue.length > 0) {
	      this._running++;
	      ({task, args, resolve, reject} = this._queue.shift());
	      cb = (await (async function() {
	        try {
	          returned = (await task(...args));
	          return function() {
	            return resolve(returned);
	          };
	        } catch (error1) {
	          error = error1;
	          return function() {
	            return reject(error);
	          };
	        }
	      })());
	      this._running--;
	      this._tryToRun();
	      return cb();
	    }
	  }

	  schedule(task, ...args) {
	    var promise, reject, resolve;
	    resolve = reject = null;
	    promise = new this.Promise(function(_resolve, _reject) {
	      resolve = _resolve;
	      return reject = _reject;
	    });
	    this._queue.push({task, args, resolve, reject});
	    this._tryToRun();
	    return promise;
	  }

	};

	var Sync_1 = Sync;

	var version = "2.19.5";
	var version$1 = {
		version: version
	};

	var version$2 = /*#__PURE__*/Object.freeze({
		version: version,
		default: version$1
	});

	var require$$2 = () => console.log('You must import the full version of Bottleneck in order to use this feature.');

	var require$$3 = () => console.log('You must import the full version of Bottleneck in order to use this feature.');

	var require$$4 = () => console.log('You must import the full version of Bottleneck in order to use this feature.');

	var Events$2, Group, IORedisConnection$1, RedisConnection$1, Scripts$1, parser$3;

	parser$3 = parser;

	Events$2 = Events_1;

	RedisConnection$1 = require$$2;

	IORedisConnection$1 = require$$3;

	Scripts$1 = require$$4;

	Group = (function() {
	  class Group {
	    constructor(limiterOptions = {}) {
	      this.deleteKey = this.deleteKey.bind(this);
	      this.limiterOptions = limiterOptions;
	      parser$3.load(this.limiterOptions, this.defaults, this);
	      this.Events = new Events$2(this);
	      this.instances = {};
	      this.Bottleneck = Bottleneck_1;
	      this._startAutoCleanup();
	      this.sharedConnection = this.connection != null;
	      if (this.connection == null) {
	        if (this.limiterOptions.datastore === "redis") {
	          this.connection = new RedisConnection$1(Object.assign({}, this.limiterOptions, {Events: this.Events}));
	        } else if (this.limiterOptions.datastore === "ioredis") {
	          this.connection = new IORedisConnection$1(Object.assign({}, this.limiterOptions, {Events: this.Events}));
	        }
	      }
	    }

	    key(key = "") {
	      var ref;
	      return (ref = this.instances[key]) != null ? ref : (() => {
	        var limiter;
	        limiter = this.instances[key] = new this.Bottleneck(Object.assign(this.limiterOptions, {
	          id: `${this.id}-${key}`,
	          timeout: this.timeout,
	          connection: this.connection
	        }));
	        this.Events.trigger("created", limiter, key);
	        return limiter;
	      })();
	    }

	    async deleteKey(key = "") {
	      var deleted, instance;
	      instance = this.instances[key];
	      if (this.connection) {
	        deleted = (await this.connection.__runCommand__(['del', ...Scripts$1.allKeys(`${this.id}-${key}`)]));
	      }
	      if (instance != null) {
	        delete this.instances[key];
	        await instance.disconnect();
	      }
	      return (instance != null) || deleted > 0;
	    }

	    limiters() {
	      var k, ref, results, v;
	      ref = this.instances;
	      results = [];
	      for (k in ref) {
	        v = ref[k];
	        results.push({
	          key: k,
	          limiter: v
	        });
	      }
	      return results;
	    }

	    keys() {
	      return Object.keys(this.instances);
	    }

	    async clusterKeys() {
	      var cursor, end, found, i, k, keys, len, next, start;
	      if (this.connection == null) {
	        return this.Promise.resolve(this.keys());
	      }
	      keys = [];
	      cursor = null;
	      start = `b_${this.id}-`.length;
	      end = "_settings".length;
	      while (cursor !== 0) {
	        [next, found] = (await this.connection.__runCommand__(["scan", cursor != null ? cursor : 0, "match", `b_${this.id}-*_settings`, "count", 10000]));
	        cursor = ~~next;
	        for (i = 0, len = found.length; i < len; i++) {
	          k = found[i];
	          keys.push(k.slice(start, -end));
	        }
	      }
	      return keys;
	    }

	    _startAutoCleanup() {
	      var base;
	      clearInterval(this.interval);
	      return typeof (base = (this.interval = setInterval(async() => {
	        var e, k, ref, results, time, v;
	        time = Date.now();
	        ref = this.instances;
	        results = [];
	        for (k in ref) {
	          v = ref[k];
	          try {
	            if ((await v._store.__groupCheck__(time))) {
	              results.push(this.deleteKey(k));
	            } else {
	              results.push(void 0);
	            }
	          } catch (error) {
	            e = error;
	            results.push(v.Events.trigger("error", e));
	          }
	        }
	        return results;
	      }, this.timeout / 2))).unref === "function" ? base.unref() : void 0;
	    }

	    updateSettings(options = {}) {
	      parser$3.overwrite(options, this.defaults, this);
	      parser$3.overwrite(options, options, this.limiterOptions);
	      if (options.timeout != null) {
	        return this._startAutoCleanup();
	      }
	    }

	    disconnect(flush = true) {
	      var ref;
	      if (!this.sharedConnection) {
	        return (ref = this.connection) != null ? ref.disconnect(flush) : void 0;
	      }
	    }

	  }
	  Group.prototype.defaults = {
	    timeout: 1000 * 60 * 5,
	    connection: null,
	    Promise: Promise,
	    id: "group-key"
	  };

	  return Group;

	}).call(commonjsGlobal);

	var Group_1 = Group;

	var Batcher, Events$3, parser$4;

	parser$4 = parser;

	Events$3 = Events_1;

	Batcher = (function() {
	  class Batcher {
	    constructor(options = {}) {
	      this.options = options;
	      parser$4.load(this.options, this.defaults, this);
	      this.Events = new Events$3(this);
	      this._arr = [];
	      this._resetPromise();
	      this._lastFlush = Date.now();
	    }

	    _resetPromise() {
	      return this._promise = new this.Promise((res, rej) => {
	        return this._resolve = res;
	      });
	    }

	    _flush() {
	      clearTimeout(this._timeout);
	      this._lastFlush = Date.now();
	      this._resolve();
	      this.Events.trigger("batch", this._arr);
	      this._arr = [];
	      return this._resetPromise();
	    }

	    add(data) {
	      var ret;
	      this._arr.push(data);
	      ret = this._promise;
	      if (this._arr.length === this.maxSize) {
	        this._flush();
	      } else if ((this.maxTime != null) && this._arr.length === 1) {
	        this._timeout = setTimeout(() => {
	          return this._flush();
	        }, this.maxTime);
	      }
	      return ret;
	    }

	  }
	  Batcher.prototype.defaults = {
	    maxTime: null,
	    maxSize: null,
	    Promise: Promise
	  };

	  return Batcher;

	}).call(commonjsGlobal);

	var Batcher_1 = Batcher;

	var require$$4$1 = () => console.log('You must import the full version of Bottleneck in order to use this feature.');

	var require$$8 = getCjsExportFromNamespace(version$2);

	var Bottleneck, DEFAULT_PRIORITY$1, Events$4, Job$1, LocalDatastore$1, NUM_PRIORITIES$1, Queues$1, RedisDatastore$1, States$1, Sync$1, parser$5,
	  splice = [].splice;

	NUM_PRIORITIES$1 = 10;

	DEFAULT_PRIORITY$1 = 5;

	parser$5 = parser;

	Queues$1 = Queues_1;

	Job$1 = Job_1;

	LocalDatastore$1 = LocalDatastore_1;

	RedisDatastore$1 = require$$4$1;

	Events$4 = Events_1;

	States$1 = States_1;

	Sync$1 = Sync_1;

	Bottleneck = (function() {
	  class Bottleneck {
	    constructor(options = {}, ...invalid) {
	      var storeInstanceOptions, storeOptions;
	      this._addToQueue = this._addToQueue.bind(this);
	      this._validateOptions(options, invalid);
	      parser$5.load(options, this.instanceDefaults, this);
	      this._queues = new Queues$1(NUM_PRIORITIES$1);
	      this._scheduled = {};
	      this._states = new States$1(["RECEIVED", "QUEUED", "RUNNING", "EXECUTING"].concat(this.trackDoneStatus ? ["DONE"] : []));
	      this._limiter = null;
	      this.Events = new Events$4(this);
	      this._submitLock = new Sync$1("submit", this.Promise);
	      this._registerLock = new Sync$1("register", this.Promise);
	      storeOptions = parser$5.load(options, this.storeDefaults, {});
	      this._store = (function() {
	        if (this.datastore === "redis" || this.datastore === "ioredis" || (this.connection != null)) {
	          storeInstanceOptions = parser$5.load(options, this.redisStoreDefaults, {});
	          return new RedisDatastore$1(this, storeOptions, storeInstanceOptions);
	        } else if (this.datastore === "local") {
	          storeInstanceOptions = parser$5.load(options, this.localStoreDefaults, {});
	          return new LocalDatastore$1(this, storeOptions, storeInstanceOptions);
	        } else {
	          throw new Bottleneck.prototype.BottleneckError(`Invalid datastore type: ${this.datastore}`);
	        }
	      }).call(this);
	      this._queues.on("leftzero", () => {
	        var ref;
	        return (ref = this._store.heartbeat) != null ? typeof ref.ref === "function" ? ref.ref() : void 0 : void 0;
	      });
	      this._queues.on("zero", () => {
	        var ref;
	        return (ref = this._store.heartbeat) != null ? typeof ref.unref === "function" ? ref.unref() : void 0 : void 0;
	      });
	    }

	    _validateOptions(options, invalid) {
	      if (!((options != null) && typeof options === "object" && invalid.length === 0)) {
	        throw new Bottleneck.prototype.BottleneckError("Bottleneck v2 takes a single object argument. Refer to https://github.com/SGrondin/bottleneck#upgrading-to-v2 if you're upgrading from Bottleneck v1.");
	      }
	    }

	    ready() {
	      return this._store.ready;
	    }

	    clients() {
	      return this._store.clients;
	    }

	    channel() {
	      return `b_${this.id}`;
	    }

	    channel_client() {
	      return `b_${this.id}_${this._store.clientId}`;
	    }

	    publish(message) {
	      return this._store.__publish__(message);
	    }

	    disconnect(flush = true) {
	      return this._store.__disconnect__(flush);
	    }

	    chain(_limiter) {
	      this._limiter = _limiter;
	      return this;
	    }

	    queued(priority) {
	      return this._queues.queued(priority);
	    }

	    clusterQueued() {
	      return this._store.__queued__();
	    }

	    empty() {
	      return this.queued() === 0 && this._submitLock.isEmpty();
	    }

	    running() {
	      return this._store.__running__();
	    }

	    done() {
	      return this._store.__done__();
	    }

	    jobStatus(id) {
	      return this._states.jobStatus(id);
	    }

	    jobs(status) {
	      return this._states.statusJobs(status);
	    }

	    counts() {
	      return this._states.statusCounts();
	    }

	    _randomIndex() {
	      return Math.random().toString(36).slice(2);
	    }

	    check(weight = 1) {
	      return this._store.__check__(weight);
	    }

	    _clearGlobalState(index) {
	      if (this._scheduled[index] != null) {
	        clearTimeout(this._scheduled[index].expiration);
	        delete this._scheduled[index];
	        return true;
	      } else {
	        return false;
	      }
	    }

	    async _free(index, job, options, eventInfo) {
	      var e, running;
	      try {
	        ({running} = (await this._store.__free__(index, options.weight)));
	        this.Events.trigger("debug", `Freed ${options.id}`, eventInfo);
	        if (running === 0 && this.empty()) {
	          return this.Events.trigger("idle");
	        }
	      } catch (error1) {
	        e = error1;
	        return this.Events.trigger("error", e);
	      }
	    }

	    _run(index, job, wait) {
	      var clearGlobalState, free, run;
	      job.doRun();
	      clearGlobalState = this._clearGlobalState.bind(this, index);
	      run = this._run.bind(this, index, job);
	      free = this._free.bind(this, index, job);
	      return this._scheduled[index] = {
	        timeout: setTimeout(() => {
	          return job.doExecute(this._limiter, clearGlobalState, run, free);
	        }, wait),
	        expiration: job.options.expiration != null ? setTimeout(function() {
	          return job.doExpire(clearGlobalState, run, free);
	        }, wait + job.options.expiration) : void 0,
	        job: job
	      };
	    }

	    _drainOne(capacity) {
	      return this._registerLock.schedule(() => {
	        var args, index, next, options, queue;
	        if (this.queued() === 0) {
	          return this.Promise.resolve(null);
	        }
	        queue = this._queues.getFirst();
	        ({options, args} = next = queue.first());
	        if ((capacity != null) && options.weight > capacity) {
	          return this.Promise.resolve(null);
	        }
	        this.Events.trigger("debug", `Draining ${options.id}`, {args, options});
	        index = this._randomIndex();
	        return this._store.__register__(index, options.weight, options.expiration).then(({success, wait, reservoir}) => {
	          var empty;
	          this.Events.trigger("debug", `Drained ${options.id}`, {success, args, options});
	          if (success) {
	            queue.shift();
	            empty = this.empty();
	            if (empty) {
	              this.Events.trigger("empty");
	            }
	            if (reservoir === 0) {
	              this.Events.trigger("depleted", empty);
	            }
	            this._run(index, next, wait);
	            return this.Promise.resolve(options.weight);
	          } else {
	            return this.Promise.resolve(null);
	          }
	        });
	      });
	    }

	    _drainAll(capacity, total = 0) {
	      return this._drainOne(capacity).then((drained) => {
	        var newCapacity;
	        if (drained != null) {
	          newCapacity = capacity != null ? capacity - drained : capacity;
	          return this._drainAll(newCapacity, total + drained);
	        } else {
	          return this.Promise.resolve(total);
	        }
	      }).catch((e) => {
	        return this.Events.trigger("error", e);
	      });
	    }

	    _dropAllQueued(message) {
	      return this._queues.shiftAll(function(job) {
	        return job.doDrop({message});
	      });
	    }

	    stop(options = {}) {
	      var done, waitForExecuting;
	      options = parser$5.load(options, this.stopDefaults);
	      waitForExecuting = (at) => {
	        var finished;
	        finished = () => {
	          var counts;
	          counts = this._states.counts;
	          return (counts[0] + counts[1] + counts[2] + counts[3]) === at;
	        };
	        return new this.Promise((resolve, reject) => {
	          if (finished()) {
	            return resolve();
	          } else {
	            return this.on("done", () => {
	              if (finished()) {
	                this.removeAllListeners("done");
	                return resolve();
	              }
	            });
	          }
	        });
	      };
	      done = options.dropWaitingJobs ? (this._run = function(index, next) {
	        return next.doDrop({
	          message: options.dropErrorMessage
	        });
	      }, this._drainOne = () => {
	        return this.Promise.resolve(null);
	      }, this._registerLock.schedule(() => {
	        return this._submitLock.schedule(() => {
	          var k, ref, v;
	          ref = this._scheduled;
	          for (k in ref) {
	            v = ref[k];
	            if (this.jobStatus(v.job.options.id) === "RUNNING") {
	              clearTimeout(v.timeout);
	              clearTimeout(v.expiration);
	              v.job.doDrop({
	                message: options.dropErrorMessage
	              });
	            }
	          }
	          this._dropAllQueued(options.dropErrorMessage);
	          return waitForExecuting(0);
	        });
	      })) : this.schedule({
	        priority: NUM_PRIORITIES$1 - 1,
	        weight: 0
	      }, () => {
	        return waitForExecuting(1);
	      });
	      this._receive = function(job) {
	        return job._reject(new Bottleneck.prototype.BottleneckError(options.enqueueErrorMessage));
	      };
	      this.stop = () => {
	        return this.Promise.reject(new Bottleneck.prototype.BottleneckError("stop() has already been called"));
	      };
	      return done;
	    }

	    async _addToQueue(job) {
	      var args, blocked, error, options, reachedHWM, shifted, strategy;
	      ({args, options} = job);
	      try {
	        ({reachedHWM, blocked, strategy} = (await this._store.__submit__(this.queued(), options.weight)));
	      } catch (error1) {
	        error = error1;
	        this.Events.trigger("debug", `Could not queue ${options.id}`, {args, options, error});
	        job.doDrop({error});
	        return false;
	      }
	      if (blocked) {
	        job.doDrop();
	        return true;
	      } else if (reachedHWM) {
	        shifted = strategy === Bottleneck.prototype.strategy.LEAK ? this._queues.shiftLastFrom(options.priority) : strategy === Bottleneck.prototype.strategy.OVERFLOW_PRIORITY ? this._queues.shiftLastFrom(options.priority + 1) : strategy === Bottleneck.prototype.strategy.OVERFLOW ? job : void 0;
	        if (shifted != null) {
	          shifted.doDrop();
	        }
	        if ((shifted == null) || strategy === Bottleneck.prototype.strategy.OVERFLOW) {
	          if (shifted == null) {
	            job.doDrop();
	          }
	          return reachedHWM;
	        }
	      }
	      job.doQueue(reachedHWM, blocked);
	      this._queues.push(job);
	      await this._drainAll();
	      return reachedHWM;
	    }

	    _receive(job) {
	      if (this._states.jobStatus(job.options.id) != null) {
	        job._reject(new Bottleneck.prototype.BottleneckError(`A job with the same id already exists (id=${job.options.id})`));
	        return false;
	      } else {
	        job.doReceive();
	        return this._submitLock.schedule(this._addToQueue, job);
	      }
	    }

	    submit(...args) {
	      var cb, fn, job, options, ref, ref1, task;
	      if (typeof args[0] === "function") {
	        ref = args, [fn, ...args] = ref, [cb] = splice.call(args, -1);
	        options = parser$5.load({}, this.jobDefaults);
	      } else {
	        ref1 = args, [options, fn, ...args] = ref1, [cb] = splice.call(args, -1);
	        options = parser$5.load(options, this.jobDefaults);
	      }
	      task = (...args) => {
	        return new this.Promise(function(resolve, reject) {
	          return fn(...args, function(...args) {
	            return (args[0] != null ? reject : resolve)(args);
	          });
	        });
	      };
	      job = new Job$1(task, args, options, this.jobDefaults, this.rejectOnDrop, this.Events, this._states, this.Promise);
	      job.promise.then(function(args) {
	        return typeof cb === "function" ? cb(...args) : void 0;
	      }).catch(function(args) {
	        if (Array.isArray(args)) {
	          return typeof cb === "function" ? cb(...args) : void 0;
	        } else {
	          return typeof cb === "function" ? cb(args) : void 0;
	        }
	      });
	      return this._receive(job);
	    }

	    schedule(...args) {
	      var job, options, task;
	      if (typeof args[0] === "function") {
	        [task, ...args] = args;
	        options = {};
	      } else {
	        [options, task, ...args] = args;
	      }
	      job = new Job$1(task, args, options, this.jobDefaults, this.rejectOnDrop, this.Events, this._states, this.Promise);
	      this._receive(job);
	      return job.promise;
	    }

	    wrap(fn) {
	      var schedule, wrapped;
	      schedule = this.schedule.bind(this);
	      wrapped = function(...args) {
	        return schedule(fn.bind(this), ...args);
	      };
	      wrapped.withOptions = function(options, ...args) {
	        return schedule(options, fn, ...args);
	      };
	      return wrapped;
	    }

	    async updateSettings(options = {}) {
	      await this._store.__updateSettings__(parser$5.overwrite(options, this.storeDefaults));
	      parser$5.overwrite(options, this.instanceDefaults, this);
	      return this;
	    }

	    currentReservoir() {
	      return this._store.__currentReservoir__();
	    }

	    incrementReservoir(incr = 0) {
	      return this._store.__incrementReservoir__(incr);
	    }

	  }
	  Bottleneck.default = Bottleneck;

	  Bottleneck.Events = Events$4;

	  Bottleneck.version = Bottleneck.prototype.version = require$$8.version;

	  Bottleneck.strategy = Bottleneck.prototype.strategy = {
	    LEAK: 1,
	    OVERFLOW: 2,
	    OVERFLOW_PRIORITY: 4,
	    BLOCK: 3
	  };

	  Bottleneck.BottleneckError = Bottleneck.prototype.BottleneckError = BottleneckError_1;

	  Bottleneck.Group = Bottleneck.prototype.Group = Group_1;

	  Bottleneck.RedisConnection = Bottleneck.prototype.RedisConnection = require$$2;

	  Bottleneck.IORedisConnection = Bottleneck.prototype.IORedisConnection = require$$3;

	  Bottleneck.Batcher = Bottleneck.prototype.Batcher = Batcher_1;

	  Bottleneck.prototype.jobDefaults = {
	    priority: DEFAULT_PRIORITY$1,
	    weight: 1,
	    expiration: null,
	    id: "<no-id>"
	  };

	  Bottleneck.prototype.storeDefaults = {
	    maxConcurrent: null,
	    minTime: 0,
	    highWater: null,
	    strategy: Bottleneck.prototype.strategy.LEAK,
	    penalty: null,
	    reservoir: null,
	    reservoirRefreshInterval: null,
	    reservoirRefreshAmount: null,
	    reservoirIncreaseInterval: null,
	    reservoirIncreaseAmount: null,
	    reservoirIncreaseMaximum: null
	  };

	  Bottleneck.prototype.localStoreDefaults = {
	    Promise: Promise,
	    timeout: null,
	    heartbeatInterval: 250
	  };

	  Bottleneck.prototype.redisStoreDefaults = {
	    Promise: Promise,
	    timeout: null,
	    heartbeatInterval: 5000,
	    clientTimeout: 10000,
	    Redis: null,
	    clientOptions: {},
	    clusterNodes: null,
	    clearDatastore: false,
	    connection: null
	  };

	  Bottleneck.prototype.instanceDefaults = {
	    datastore: "local",
	    connection: null,
	    id: "<no-id>",
	    rejectOnDrop: true,
	    trackDoneStatus: false,
	    Promise: Promise
	  };

	  Bottleneck.prototype.stopDefaults = {
	    enqueueErrorMessage: "This limiter has been stopped and cannot accept new jobs.",
	    dropWaitingJobs: true,
	    dropErrorMessage: "This limiter has been stopped."
	  };

	  return Bottleneck;

	}).call(commonjsGlobal);

	var Bottleneck_1 = Bottleneck;

	var lib = Bottleneck_1;

	return lib;

})));


/***/ }),

/***/ 770:
/***/ ((module, __unused_webpack_exports, __nccwpck_require__) => {

/* unused reexport */ __nccwpck_require__(218);


/***/ }),

/***/ 218:
/***/ ((__unused_webpack_module, exports, __nccwpck_require__) => {

var __webpack_unused_export__;


var net = __nccwpck_require__(278);
var tls = __nccwpck_require__(756);
var http = __nccwpck_require__(611);
var https = __nccwpck_require__(692);
var events = __nccwpck_require__(434);
var assert = __nccwpck_require__(613);
var util = __nccwpck_require__(23);


__webpack_unused_export__ = httpOverHttp;
__webpack_unused_export__ = httpsOverHttp;
__webpack_unused_export__ = httpOverHttps;
__webpack_unused_export__ = httpsOverHttps;


function httpOverHttp(options) {
  var agent = new TunnelingAgent(options);
  agent.request = http.request;
  return agent;
}

function httpsOverHttp(options) {
  var agent = new TunnelingAgent(options);
  agent.request = http.request;
  agent.createSocket = createSecureSocket;
  agent.defaultPort = 443;
  return agent;
}

function httpOverHttps(options) {
  var agent = new TunnelingAgent(options);
  agent.request = https.request;
  return agent;
}

function httpsOverHttps(options) {
  var agent = new TunnelingAgent(options);
  agent.request = https.request;
  agent.createSocket = createSecureSocket;
  agent.defaultPort = 443;
  return agent;
}


function TunnelingAgent(options) {
  var self = this;
  self.options = options || {};
  self.proxyOptions = self.options.proxy || {};
  self.maxSockets = self.options.maxSockets || http.Agent.defaultMaxSockets;
  self.requests = [];
  self.sockets = [];

  self.on('free', function onFree(socket, host, port, localAddress) {
    var options = toOptions(host, port, localAddress);
    for (var i = 0, len = self.requests.length; i < len; ++i) {
      var pending = self.requests[i];
      if (pending.host === options.host && pending.port === options.port) {
        // Detect the request to connect same origin server,
        // reuse the connection.
        self.requests.splice(i, 1);
        pending.request.onSocket(socket);
        return;
      }
    }
    socket.destroy();
    self.removeSocket(socket);
  });
}
util.inherits(TunnelingAgent, events.EventEmitter);

TunnelingAgent.prototype.addRequest = function addRequest(req, host, port, localAddress) {
  var self = this;
  var options = mergeOptions({request: req}, self.options, toOptions(host, port, localAddress));

  if (self.sockets.length >= this.maxSockets) {
    // We are over limit so we'll add it to the queue.
    self.requests.push(options);
    return;
  }

  // If we are under maxSockets create a new one.
  self.createSocket(options, function(socket) {
    socket.on('free', onFree);
    socket.on('close', onCloseOrRemove);
    socket.on('agentRemove', onCloseOrRemove);
    req.onSocket(socket);

    function onFree() {
      self.emit('free', socket, options);
    }

    function onCloseOrRemove(err) {
      self.removeSocket(socket);
      socket.removeListener('free', onFree);
      socket.removeListener('close', onCloseOrRemove);
      socket.removeListener('agentRemove', onCloseOrRemove);
    }
  });
};

TunnelingAgent.prototype.createSocket = function createSocket(options, cb) {
  var self = this;
  var placeholder = {};
  self.sockets.push(placeholder);

  var connectOptions = mergeOptions({}, self.proxyOptions, {
    method: 'CONNECT',
    path: options.host + ':' + options.port,
    agent: false,
    headers: {
      host: options.host + ':' + options.port
    }
  });
  if (options.localAddress) {
    connectOptions.localAddress = options.localAddress;
  }
  if (connectOptions.proxyAuth) {
    connectOptions.headers = connectOptions.headers || {};
    connectOptions.headers['Proxy-Authorization'] = 'Basic ' +
        new Buffer(connectOptions.proxyAuth).toString('base64');
  }

  debug('making CONNECT request');
  var connectReq = self.request(connectOptions);
  connectReq.useChunkedEncodingByDefault = false; // for v0.6
  connectReq.once('response', onResponse); // for v0.6
  connectReq.once('upgrade', onUpgrade);   // for v0.6
  connectReq.once('connect', onConnect);   // for v0.7 or later
  connectReq.once('error', onError);
  connectReq.end();

  function onResponse(res) {
    // Very hacky. This is necessary to avoid http-parser leaks.
    res.upgrade = true;
  }

  function onUpgrade(res, socket, head) {
    // Hacky.
    process.nextTick(function() {
      onConnect(res, socket, head);
    });
  }

  function onConnect(res, socket, head) {
    connectReq.removeAllListeners();
    socket.removeAllListeners();

    if (res.statusCode !== 200) {
      debug('tunneling socket could not be established, statusCode=%d',
        res.statusCode);
      socket.destroy();
      var error = new Error('tunneling socket could not be established, ' +
        'statusCode=' + res.statusCode);
      error.code = 'ECONNRESET';
      options.request.emit('error', error);
      self.removeSocket(placeholder);
      return;
    }
    if (head.length > 0) {
      debug('got illegal response body from proxy');
      socket.destroy();
      var error = new Error('got illegal response body from proxy');
      error.code = 'ECONNRESET';
      options.request.emit('error', error);
      self.removeSocket(placeholder);
      return;
    }
    debug('tunneling connection has established');
    self.sockets[self.sockets.indexOf(placeholder)] = socket;
    return cb(socket);
  }

  function onError(cause) {
    connectReq.removeAllListeners();

    debug('tunneling socket could not be established, cause=%s\n',
          cause.message, cause.stack);
    var error = new Error('tunneling socket could not be established, ' +
                          'cause=' + cause.message);
    error.code = 'ECONNRESET';
    options.request.emit('error', error);
    self.removeSocket(placeholder);
  }
};

TunnelingAgent.prototype.removeSocket = function removeSocket(socket) {
  var pos = this.sockets.indexOf(socket)
  if (pos === -1) {
    return;
  }
  this.sockets.splice(pos, 1);

  var pending = this.requests.shift();
  if (pending) {
    // If we have pending requests and a socket gets closed a new one
    // needs to be created to take over in the pool for the one that closed.
    this.createSocket(pending, function(socket) {
      pending.request.onSocket(socket);
    });
  }
};

function createSecureSocket(options, cb) {
  var self = this;
  TunnelingAgent.prototype.createSocket.call(self, options, function(socket) {
    var hostHeader = options.request.getHeader('host');
    var tlsOptions = mergeOptions({}, self.options, {
      socket: socket,
      servername: hostHeader ? hostHeader.replace(/:.*$/, '') : options.host
    });

    // 0 is dummy port for v0.6
    var secureSocket = tls.connect(0, tlsOptions);
    self.sockets[self.sockets.indexOf(socket)] = secureSocket;
    cb(secureSocket);
  });
}


function toOptions(host, port, localAddress) {
  if (typeof host === 'string') { // since v0.10
    return {
      host: host,
      port: port,
      localAddress: localAddress
    };
  }
  return host; // for v0.11 or later
}

function mergeOptions(target) {
  for (var i = 1, len = arguments.length; i < len; ++i) {
    var overrides = arguments[i];
    if (typeof overrides === 'object') {
      var keys = Object.keys(overrides);
      for (var j = 0, keyLen = keys.length; j < keyLen; ++j) {
        var k = keys[j];
        if (overrides[k] !== undefined) {
          target[k] = overrides[k];
        }
      }
    }
  }
  return target;
}


var debug;
if (process.env.NODE_DEBUG && /\btunnel\b/.test(process.env.NODE_DEBUG)) {
  debug = function() {
    var args = Array.prototype.slice.call(arguments);
    if (typeof args[0] === 'string') {
      args[0] = 'TUNNEL: ' + args[0];
    } else {
      args.unshift('TUNNEL:');
    }
    console.error.apply(console, args);
  }
} else {
  debug = function() {};
}
__webpack_unused_export__ = debug; // for test


/***/ }),

/***/ 523:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

/* harmony export */ __nccwpck_require__.d(__webpack_exports__, {
/* harmony export */   Ic: () => (/* binding */ deadlinePlugin),
/* harmony export */   nN: () => (/* binding */ REPORT_GRACE_MS)
/* harmony export */ });
/* unused harmony export GitHubDeadlineError */
/**
 * The one grace past the deadline: the final pull request comment (and the job summary written
 * after it) of a run that used its whole `timeout` on the work, so that the run still reports on
 * the pull request, a failure above all. Five seconds covers the comment's two or three requests
 * on a GitHub that answers (each well under a second); against a GitHub that never answers it is
 * all the comment can add to the step.
 */
const REPORT_GRACE_MS = 5_000;
/** A GitHub request not sent, or cut short, because the step's deadline passed. */
class GitHubDeadlineError extends Error {
    /** Octokit's plugins read `request` (options) and `status` off an error; no status: never retried. */
    request;
    constructor(what, sent, options, cause) {
        super(sent
            ? `${what}: no answer before the step's deadline (the 'timeout' input) passed`
            : `${what}: not sent: the step's deadline (the 'timeout' input) has passed`, cause !== undefined ? { cause } : undefined);
        this.name = 'GitHubDeadlineError';
        this.request = options;
    }
}
/** The plugin; the deadline comes in the constructor's `githubDeadline` option (none: no bound). */
function deadlinePlugin(octokit, options) {
    const deadline = options.githubDeadline;
    if (!deadline)
        return;
    const retryBase = options.retry?.retryAfterBaseValue ?? 1000;
    octokit.hook.wrap('request', async (request, o) => {
        const opts = o;
        const what = `${opts.method ?? 'GET'} ${opts.url ?? ''}`;
        const stop = (sent, cause) => {
            if (opts.request)
                opts.request.retries = 0;
            return new GitHubDeadlineError(what, sent, o, cause);
        };
        if (deadline.now() >= deadline.at())
            throw stop(false);
        try {
            return await request(o);
        }
        catch (e) {
            // No answer (octokit reports a failed fetch, a timeout included, as a 500 with no response).
            const unanswered = e.status === 500 &&
                !e.response;
            if (unanswered && deadline.now() >= deadline.at())
                throw stop(true, e);
            // The retry plugin waits (retryCount + 1)² of its base before the next try (plugin-retry
            // 8.1.1, error-request.js): no retry whose wait ends past the deadline.
            const wait = retryBase * ((opts.request?.retryCount ?? 0) + 1) ** 2;
            if (opts.request && deadline.now() + wait >= deadline.at())
                opts.request.retries = 0;
            throw e;
        }
    });
}


/***/ }),

/***/ 100:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {

// ESM COMPAT FLAG
__nccwpck_require__.r(__webpack_exports__);

// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  ActionOctokit: () => (/* binding */ ActionOctokit),
  createGitHubClient: () => (/* binding */ createGitHubClient)
});

// EXTERNAL MODULE: ./node_modules/bottleneck/light.js
var light = __nccwpck_require__(251);
var light_default = /*#__PURE__*/__nccwpck_require__.n(light);
;// CONCATENATED MODULE: ./node_modules/@octokit/request-error/dist-src/index.js
class RequestError extends Error {
  name;
  /**
   * http status code
   */
  status;
  /**
   * Request options that lead to the error.
   */
  request;
  /**
   * Response object if a response was received
   */
  response;
  constructor(message, statusCode, options) {
    super(message, { cause: options.cause });
    this.name = "HttpError";
    this.status = Number.parseInt(statusCode);
    if (Number.isNaN(this.status)) {
      this.status = 0;
    }
    /* v8 ignore else -- @preserve -- Bug with vitest coverage where it sees an else branch that doesn't exist */
    if ("response" in options) {
      this.response = options.response;
    }
    const requestCopy = Object.assign({}, options.request);
    if (options.request.headers.authorization) {
      requestCopy.headers = Object.assign({}, options.request.headers, {
        authorization: options.request.headers.authorization.replace(
          /(?<! ) .*$/,
          " [REDACTED]"
        )
      });
    }
    requestCopy.url = requestCopy.url.replace(/\bclient_secret=\w+/g, "client_secret=[REDACTED]").replace(/\baccess_token=\w+/g, "access_token=[REDACTED]");
    this.request = requestCopy;
  }
}


;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-retry/dist-bundle/index.js
// pkg/dist-src/version.js
var VERSION = "0.0.0-development";

// pkg/dist-src/error-request.js
function isRequestError(error) {
  return error.request !== void 0;
}
async function errorRequest(state, octokit, error, options) {
  if (!isRequestError(error) || !error?.request.request) {
    throw error;
  }
  if (error.status >= 400 && !state.doNotRetry.includes(error.status)) {
    const retries = options.request.retries != null ? options.request.retries : state.retries;
    const retryAfter = Math.pow((options.request.retryCount || 0) + 1, 2);
    throw octokit.retry.retryRequest(error, retries, retryAfter);
  }
  throw error;
}

// pkg/dist-src/wrap-request.js


async function wrapRequest(state, octokit, request, options) {
  const limiter = new light();
  limiter.on("failed", function(error, info) {
    const maxRetries = ~~error.request.request?.retries;
    const after = ~~error.request.request?.retryAfter;
    options.request.retryCount = info.retryCount + 1;
    if (maxRetries > info.retryCount) {
      return after * state.retryAfterBaseValue;
    }
  });
  return limiter.schedule(
    requestWithGraphqlErrorHandling.bind(null, state, octokit, request),
    options
  );
}
async function requestWithGraphqlErrorHandling(state, octokit, request, options) {
  const response = await request(options);
  if (response.data && response.data.errors && response.data.errors.length > 0 && /Something went wrong while executing your query/.test(
    response.data.errors[0].message
  )) {
    const error = new RequestError(response.data.errors[0].message, 500, {
      request: options,
      response
    });
    return errorRequest(state, octokit, error, options);
  }
  return response;
}

// pkg/dist-src/index.js
function retry(octokit, octokitOptions) {
  const state = Object.assign(
    {
      enabled: true,
      retryAfterBaseValue: 1e3,
      doNotRetry: [400, 401, 403, 404, 410, 422, 451],
      retries: 3
    },
    octokitOptions.retry
  );
  const retryPlugin = {
    retry: {
      retryRequest: (error, retries, retryAfter) => {
        error.request.request = Object.assign({}, error.request.request, {
          retries,
          retryAfter
        });
        return error;
      }
    }
  };
  if (state.enabled) {
    octokit.hook.error("request", errorRequest.bind(null, state, retryPlugin));
    octokit.hook.wrap("request", wrapRequest.bind(null, state, retryPlugin));
  }
  return retryPlugin;
}
retry.VERSION = VERSION;


;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-throttling/dist-bundle/index.js
// pkg/dist-src/index.js


// pkg/dist-src/version.js
var dist_bundle_VERSION = "0.0.0-development";

// pkg/dist-src/wrap-request.js
var noop = () => Promise.resolve();
function dist_bundle_wrapRequest(state, request, options) {
  return state.retryLimiter.schedule(doRequest, state, request, options);
}
async function doRequest(state, request, options) {
  const { pathname } = new URL(options.url, "http://github.test");
  const isAuth = isAuthRequest(options.method, pathname);
  const isWrite = !isAuth && options.method !== "GET" && options.method !== "HEAD";
  const isSearch = options.method === "GET" && pathname.startsWith("/search/");
  const isGraphQL = pathname.startsWith("/graphql");
  const retryCount = ~~request.retryCount;
  const jobOptions = retryCount > 0 ? { priority: 0, weight: 0 } : {};
  if (state.clustering) {
    jobOptions.expiration = 1e3 * 60;
  }
  if (isWrite || isGraphQL) {
    await state.write.key(state.id).schedule(jobOptions, noop);
  }
  if (isWrite && state.triggersNotification(pathname)) {
    await state.notifications.key(state.id).schedule(jobOptions, noop);
  }
  if (isSearch) {
    await state.search.key(state.id).schedule(jobOptions, noop);
  }
  const req = (isAuth ? state.auth : state.global).key(state.id).schedule(jobOptions, request, options);
  if (isGraphQL) {
    const res = await req;
    if (res.data.errors != null && res.data.errors.some((error) => error.type === "RATE_LIMITED")) {
      const error = Object.assign(new Error("GraphQL Rate Limit Exceeded"), {
        response: res,
        data: res.data
      });
      throw error;
    }
  }
  return req;
}
function isAuthRequest(method, pathname) {
  return method === "PATCH" && // https://docs.github.com/en/rest/apps/apps?apiVersion=2022-11-28#create-a-scoped-access-token
  /^\/applications\/[^/]+\/token\/scoped$/.test(pathname) || method === "POST" && // https://docs.github.com/en/rest/apps/oauth-applications?apiVersion=2022-11-28#reset-a-token
  (/^\/applications\/[^/]+\/token$/.test(pathname) || // https://docs.github.com/en/rest/apps/apps?apiVersion=2022-11-28#create-an-installation-access-token-for-an-app
  /^\/app\/installations\/[^/]+\/access_tokens$/.test(pathname) || // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
  pathname === "/login/oauth/access_token");
}

// pkg/dist-src/generated/triggers-notification-paths.js
var triggers_notification_paths_default = [
  "/orgs/{org}/invitations",
  "/orgs/{org}/invitations/{invitation_id}",
  "/orgs/{org}/teams/{team_slug}/discussions",
  "/orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments",
  "/repos/{owner}/{repo}/collaborators/{username}",
  "/repos/{owner}/{repo}/commits/{commit_sha}/comments",
  "/repos/{owner}/{repo}/issues",
  "/repos/{owner}/{repo}/issues/{issue_number}/comments",
  "/repos/{owner}/{repo}/issues/{issue_number}/sub_issue",
  "/repos/{owner}/{repo}/issues/{issue_number}/sub_issues/priority",
  "/repos/{owner}/{repo}/pulls",
  "/repos/{owner}/{repo}/pulls/{pull_number}/comments",
  "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies",
  "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
  "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
  "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
  "/repos/{owner}/{repo}/releases",
  "/teams/{team_id}/discussions",
  "/teams/{team_id}/discussions/{discussion_number}/comments"
];

// pkg/dist-src/route-matcher.js
function routeMatcher(paths) {
  const regexes = paths.map(
    (path) => path.split("/").map((c) => c.startsWith("{") ? "(?:.+?)" : c).join("/")
  );
  const regex2 = `^(?:${regexes.map((r) => `(?:${r})`).join("|")})[^/]*$`;
  return new RegExp(regex2, "i");
}

// pkg/dist-src/index.js
var regex = routeMatcher(triggers_notification_paths_default);
var triggersNotification = regex.test.bind(regex);
var groups = {};
var createGroups = function(Bottleneck, common) {
  groups.global = new Bottleneck.Group({
    id: "octokit-global",
    maxConcurrent: 10,
    ...common
  });
  groups.auth = new Bottleneck.Group({
    id: "octokit-auth",
    maxConcurrent: 1,
    ...common
  });
  groups.search = new Bottleneck.Group({
    id: "octokit-search",
    maxConcurrent: 1,
    minTime: 2e3,
    ...common
  });
  groups.write = new Bottleneck.Group({
    id: "octokit-write",
    maxConcurrent: 1,
    minTime: 1e3,
    ...common
  });
  groups.notifications = new Bottleneck.Group({
    id: "octokit-notifications",
    maxConcurrent: 1,
    minTime: 3e3,
    ...common
  });
};
function throttling(octokit, octokitOptions) {
  const {
    enabled = true,
    Bottleneck = light,
    id = "no-id",
    timeout = 1e3 * 60 * 2,
    // Redis TTL: 2 minutes
    connection
  } = octokitOptions.throttle || {};
  if (!enabled) {
    return {};
  }
  const common = { timeout };
  if (typeof connection !== "undefined") {
    common.connection = connection;
  }
  const state = Object.assign(
    {
      clustering: connection != null,
      triggersNotification,
      fallbackSecondaryRateRetryAfter: 60,
      retryAfterBaseValue: 1e3,
      id
    },
    octokitOptions.throttle
  );
  if (typeof state.onSecondaryRateLimit !== "function" || typeof state.onRateLimit !== "function") {
    throw new Error(`octokit/plugin-throttling error:
        You must pass the onSecondaryRateLimit and onRateLimit error handlers.
        See https://octokit.github.io/rest.js/#throttling

        const octokit = new Octokit({
          throttle: {
            onSecondaryRateLimit: (retryAfter, options) => {/* ... */},
            onRateLimit: (retryAfter, options) => {/* ... */}
          }
        })
    `);
  }
  let initialized = false;
  const initializeBottleneck = () => {
    if (initialized) {
      return;
    }
    initialized = true;
    if (groups.global == null) {
      createGroups(Bottleneck, common);
    }
    state.global = state.global ?? groups.global;
    state.auth = state.auth ?? groups.auth;
    state.search = state.search ?? groups.search;
    state.write = state.write ?? groups.write;
    state.notifications = state.notifications ?? groups.notifications;
    state.retryLimiter = state.retryLimiter ?? new Bottleneck();
    const events = {};
    const emitter = new Bottleneck.Events(events);
    events.on("secondary-limit", state.onSecondaryRateLimit);
    events.on("rate-limit", state.onRateLimit);
    events.on(
      "error",
      (e) => octokit.log.warn("Error in throttling-plugin limit handler", e)
    );
    state.retryLimiter.on("failed", async function(error, info) {
      const [state2, request, options] = info.args;
      const { pathname } = new URL(options.url, "http://github.test");
      const shouldRetryGraphQL = pathname.startsWith("/graphql") && error.status !== 401;
      if (!(shouldRetryGraphQL || error.status === 403 || error.status === 429)) {
        return;
      }
      const retryCount = ~~request.retryCount;
      request.retryCount = retryCount;
      options.request.retryCount = retryCount;
      const { wantRetry, retryAfter = 0 } = await (async function() {
        if (/\bsecondary rate\b/i.test(error.message)) {
          const retryAfter2 = Number(error.response.headers["retry-after"]) || state2.fallbackSecondaryRateRetryAfter;
          const wantRetry2 = await emitter.trigger(
            "secondary-limit",
            retryAfter2,
            options,
            octokit,
            retryCount
          );
          return { wantRetry: wantRetry2, retryAfter: retryAfter2 };
        }
        if (error.response.headers != null && error.response.headers["x-ratelimit-remaining"] === "0" || (error.response.data?.errors ?? []).some(
          (error2) => error2.type === "RATE_LIMITED"
        )) {
          const rateLimitReset = new Date(
            ~~error.response.headers["x-ratelimit-reset"] * 1e3
          ).getTime();
          const retryAfter2 = Math.max(
            // Add one second so we retry _after_ the reset time
            // https://docs.github.com/en/rest/overview/resources-in-the-rest-api?apiVersion=2022-11-28#exceeding-the-rate-limit
            Math.ceil((rateLimitReset - Date.now()) / 1e3) + 1,
            0
          );
          const wantRetry2 = await emitter.trigger(
            "rate-limit",
            retryAfter2,
            options,
            octokit,
            retryCount
          );
          return { wantRetry: wantRetry2, retryAfter: retryAfter2 };
        }
        return {};
      })();
      if (wantRetry) {
        request.retryCount++;
        return retryAfter * state2.retryAfterBaseValue;
      }
    });
  };
  octokit.hook.wrap("request", (request, options) => {
    initializeBottleneck();
    return dist_bundle_wrapRequest(state, request, options);
  });
  return {};
}
throttling.VERSION = dist_bundle_VERSION;
throttling.triggersNotification = triggersNotification;


;// CONCATENATED MODULE: ./node_modules/universal-user-agent/index.js
function getUserAgent() {
  if (typeof navigator === "object" && "userAgent" in navigator) {
    return navigator.userAgent;
  }

  if (typeof process === "object" && process.version !== undefined) {
    return `Node.js/${process.version.substr(1)} (${process.platform}; ${
      process.arch
    })`;
  }

  return "<environment undetectable>";
}

;// CONCATENATED MODULE: ./node_modules/before-after-hook/lib/register.js
// @ts-check

function register(state, name, method, options) {
  if (typeof method !== "function") {
    throw new Error("method for before hook must be a function");
  }

  if (!options) {
    options = {};
  }

  if (Array.isArray(name)) {
    return name.reverse().reduce((callback, name) => {
      return register.bind(null, state, name, callback, options);
    }, method)();
  }

  return Promise.resolve().then(() => {
    if (!state.registry[name]) {
      return method(options);
    }

    return state.registry[name].reduce((method, registered) => {
      return registered.hook.bind(null, method, options);
    }, method)();
  });
}

;// CONCATENATED MODULE: ./node_modules/before-after-hook/lib/add.js
// @ts-check

function addHook(state, kind, name, hook) {
  const orig = hook;
  if (!state.registry[name]) {
    state.registry[name] = [];
  }

  if (kind === "before") {
    hook = (method, options) => {
      return Promise.resolve()
        .then(orig.bind(null, options))
        .then(method.bind(null, options));
    };
  }

  if (kind === "after") {
    hook = (method, options) => {
      let result;
      return Promise.resolve()
        .then(method.bind(null, options))
        .then((result_) => {
          result = result_;
          return orig(result, options);
        })
        .then(() => {
          return result;
        });
    };
  }

  if (kind === "error") {
    hook = (method, options) => {
      return Promise.resolve()
        .then(method.bind(null, options))
        .catch((error) => {
          return orig(error, options);
        });
    };
  }

  state.registry[name].push({
    hook: hook,
    orig: orig,
  });
}

;// CONCATENATED MODULE: ./node_modules/before-after-hook/lib/remove.js
// @ts-check

function removeHook(state, name, method) {
  if (!state.registry[name]) {
    return;
  }

  const index = state.registry[name]
    .map((registered) => {
      return registered.orig;
    })
    .indexOf(method);

  if (index === -1) {
    return;
  }

  state.registry[name].splice(index, 1);
}

;// CONCATENATED MODULE: ./node_modules/before-after-hook/index.js
// @ts-check





// bind with array of arguments: https://stackoverflow.com/a/21792913
const bind = Function.bind;
const bindable = bind.bind(bind);

function bindApi(hook, state, name) {
  const removeHookRef = bindable(removeHook, null).apply(
    null,
    name ? [state, name] : [state]
  );
  hook.api = { remove: removeHookRef };
  hook.remove = removeHookRef;
  ["before", "error", "after", "wrap"].forEach((kind) => {
    const args = name ? [state, kind, name] : [state, kind];
    hook[kind] = hook.api[kind] = bindable(addHook, null).apply(null, args);
  });
}

function Singular() {
  const singularHookName = Symbol("Singular");
  const singularHookState = {
    registry: {},
  };
  const singularHook = register.bind(null, singularHookState, singularHookName);
  bindApi(singularHook, singularHookState, singularHookName);
  return singularHook;
}

function Collection() {
  const state = {
    registry: {},
  };

  const hook = register.bind(null, state);
  bindApi(hook, state);

  return hook;
}

/* harmony default export */ const before_after_hook = ({ Singular, Collection });

;// CONCATENATED MODULE: ./node_modules/@octokit/endpoint/dist-bundle/index.js
// pkg/dist-src/defaults.js


// pkg/dist-src/version.js
var endpoint_dist_bundle_VERSION = "0.0.0-development";

// pkg/dist-src/defaults.js
var userAgent = `octokit-endpoint.js/${endpoint_dist_bundle_VERSION} ${getUserAgent()}`;
var DEFAULTS = {
  method: "GET",
  baseUrl: "https://api.github.com",
  headers: {
    accept: "application/vnd.github.v3+json",
    "user-agent": userAgent
  },
  mediaType: {
    format: ""
  }
};

// pkg/dist-src/util/lowercase-keys.js
function lowercaseKeys(object) {
  if (!object) {
    return {};
  }
  return Object.keys(object).reduce((newObj, key) => {
    newObj[key.toLowerCase()] = object[key];
    return newObj;
  }, {});
}

// pkg/dist-src/util/is-plain-object.js
function isPlainObject(value) {
  if (typeof value !== "object" || value === null) return false;
  if (Object.prototype.toString.call(value) !== "[object Object]") return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === null) return true;
  const Ctor = Object.prototype.hasOwnProperty.call(proto, "constructor") && proto.constructor;
  return typeof Ctor === "function" && Ctor instanceof Ctor && Function.prototype.call(Ctor) === Function.prototype.call(value);
}

// pkg/dist-src/util/merge-deep.js
function mergeDeep(defaults, options) {
  const result = Object.assign({}, defaults);
  Object.keys(options).forEach((key) => {
    if (isPlainObject(options[key])) {
      if (!(key in defaults)) Object.assign(result, { [key]: options[key] });
      else result[key] = mergeDeep(defaults[key], options[key]);
    } else {
      Object.assign(result, { [key]: options[key] });
    }
  });
  return result;
}

// pkg/dist-src/util/remove-undefined-properties.js
function removeUndefinedProperties(obj) {
  for (const key in obj) {
    if (obj[key] === void 0) {
      delete obj[key];
    }
  }
  return obj;
}

// pkg/dist-src/merge.js
function merge(defaults, route, options) {
  if (typeof route === "string") {
    let [method, url] = route.split(" ");
    options = Object.assign(url ? { method, url } : { url: method }, options);
  } else {
    options = Object.assign({}, route);
  }
  options.headers = lowercaseKeys(options.headers);
  removeUndefinedProperties(options);
  removeUndefinedProperties(options.headers);
  const mergedOptions = mergeDeep(defaults || {}, options);
  if (options.url === "/graphql") {
    if (defaults && defaults.mediaType.previews?.length) {
      mergedOptions.mediaType.previews = defaults.mediaType.previews.filter(
        (preview) => !mergedOptions.mediaType.previews.includes(preview)
      ).concat(mergedOptions.mediaType.previews);
    }
    mergedOptions.mediaType.previews = (mergedOptions.mediaType.previews || []).map((preview) => preview.replace(/-preview/, ""));
  }
  return mergedOptions;
}

// pkg/dist-src/util/add-query-parameters.js
function addQueryParameters(url, parameters) {
  const separator = /\?/.test(url) ? "&" : "?";
  const names = Object.keys(parameters);
  if (names.length === 0) {
    return url;
  }
  return url + separator + names.map((name) => {
    if (name === "q") {
      return "q=" + parameters.q.split("+").map(encodeURIComponent).join("+");
    }
    return `${name}=${encodeURIComponent(parameters[name])}`;
  }).join("&");
}

// pkg/dist-src/util/extract-url-variable-names.js
var urlVariableRegex = /\{[^{}}]+\}/g;
function removeNonChars(variableName) {
  return variableName.replace(/(?:^\W+)|(?:(?<!\W)\W+$)/g, "").split(/,/);
}
function extractUrlVariableNames(url) {
  const matches = url.match(urlVariableRegex);
  if (!matches) {
    return [];
  }
  return matches.map(removeNonChars).reduce((a, b) => a.concat(b), []);
}

// pkg/dist-src/util/omit.js
function omit(object, keysToOmit) {
  const result = { __proto__: null };
  for (const key of Object.keys(object)) {
    if (keysToOmit.indexOf(key) === -1) {
      result[key] = object[key];
    }
  }
  return result;
}

// pkg/dist-src/util/url-template.js
function encodeReserved(str) {
  return str.split(/(%[0-9A-Fa-f]{2})/g).map(function(part) {
    if (!/%[0-9A-Fa-f]/.test(part)) {
      part = encodeURI(part).replace(/%5B/g, "[").replace(/%5D/g, "]");
    }
    return part;
  }).join("");
}
function encodeUnreserved(str) {
  return encodeURIComponent(str).replace(/[!'()*]/g, function(c) {
    return "%" + c.charCodeAt(0).toString(16).toUpperCase();
  });
}
function encodeValue(operator, value, key) {
  value = operator === "+" || operator === "#" ? encodeReserved(value) : encodeUnreserved(value);
  if (key) {
    return encodeUnreserved(key) + "=" + value;
  } else {
    return value;
  }
}
function isDefined(value) {
  return value !== void 0 && value !== null;
}
function isKeyOperator(operator) {
  return operator === ";" || operator === "&" || operator === "?";
}
function getValues(context, operator, key, modifier) {
  var value = context[key], result = [];
  if (isDefined(value) && value !== "") {
    if (typeof value === "string" || typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
      value = value.toString();
      if (modifier && modifier !== "*") {
        value = value.substring(0, parseInt(modifier, 10));
      }
      result.push(
        encodeValue(operator, value, isKeyOperator(operator) ? key : "")
      );
    } else {
      if (modifier === "*") {
        if (Array.isArray(value)) {
          value.filter(isDefined).forEach(function(value2) {
            result.push(
              encodeValue(operator, value2, isKeyOperator(operator) ? key : "")
            );
          });
        } else {
          Object.keys(value).forEach(function(k) {
            if (isDefined(value[k])) {
              result.push(encodeValue(operator, value[k], k));
            }
          });
        }
      } else {
        const tmp = [];
        if (Array.isArray(value)) {
          value.filter(isDefined).forEach(function(value2) {
            tmp.push(encodeValue(operator, value2));
          });
        } else {
          Object.keys(value).forEach(function(k) {
            if (isDefined(value[k])) {
              tmp.push(encodeUnreserved(k));
              tmp.push(encodeValue(operator, value[k].toString()));
            }
          });
        }
        if (isKeyOperator(operator)) {
          result.push(encodeUnreserved(key) + "=" + tmp.join(","));
        } else if (tmp.length !== 0) {
          result.push(tmp.join(","));
        }
      }
    }
  } else {
    if (operator === ";") {
      if (isDefined(value)) {
        result.push(encodeUnreserved(key));
      }
    } else if (value === "" && (operator === "&" || operator === "?")) {
      result.push(encodeUnreserved(key) + "=");
    } else if (value === "") {
      result.push("");
    }
  }
  return result;
}
function parseUrl(template) {
  return {
    expand: expand.bind(null, template)
  };
}
function expand(template, context) {
  var operators = ["+", "#", ".", "/", ";", "?", "&"];
  template = template.replace(
    /\{([^\{\}]+)\}|([^\{\}]+)/g,
    function(_, expression, literal) {
      if (expression) {
        let operator = "";
        const values = [];
        if (operators.indexOf(expression.charAt(0)) !== -1) {
          operator = expression.charAt(0);
          expression = expression.substr(1);
        }
        expression.split(/,/g).forEach(function(variable) {
          var tmp = /([^:\*]*)(?::(\d+)|(\*))?/.exec(variable);
          values.push(getValues(context, operator, tmp[1], tmp[2] || tmp[3]));
        });
        if (operator && operator !== "+") {
          var separator = ",";
          if (operator === "?") {
            separator = "&";
          } else if (operator !== "#") {
            separator = operator;
          }
          return (values.length !== 0 ? operator : "") + values.join(separator);
        } else {
          return values.join(",");
        }
      } else {
        return encodeReserved(literal);
      }
    }
  );
  if (template === "/") {
    return template;
  } else {
    return template.replace(/\/$/, "");
  }
}

// pkg/dist-src/parse.js
function parse(options) {
  let method = options.method.toUpperCase();
  let url = (options.url || "/").replace(/:([a-z]\w+)/g, "{$1}");
  let headers = Object.assign({}, options.headers);
  let body;
  let parameters = omit(options, [
    "method",
    "baseUrl",
    "url",
    "headers",
    "request",
    "mediaType"
  ]);
  const urlVariableNames = extractUrlVariableNames(url);
  url = parseUrl(url).expand(parameters);
  if (!/^http/.test(url)) {
    url = options.baseUrl + url;
  }
  const omittedParameters = Object.keys(options).filter((option) => urlVariableNames.includes(option)).concat("baseUrl");
  const remainingParameters = omit(parameters, omittedParameters);
  const isBinaryRequest = /application\/octet-stream/i.test(headers.accept);
  if (!isBinaryRequest) {
    if (options.mediaType.format) {
      headers.accept = headers.accept.split(/,/).map(
        (format) => format.replace(
          /application\/vnd(\.\w+)(\.v3)?(\.\w+)?(\+json)?$/,
          `application/vnd$1$2.${options.mediaType.format}`
        )
      ).join(",");
    }
    if (url.endsWith("/graphql")) {
      if (options.mediaType.previews?.length) {
        const previewsFromAcceptHeader = headers.accept.match(/(?<![\w-])[\w-]+(?=-preview)/g) || [];
        headers.accept = previewsFromAcceptHeader.concat(options.mediaType.previews).map((preview) => {
          const format = options.mediaType.format ? `.${options.mediaType.format}` : "+json";
          return `application/vnd.github.${preview}-preview${format}`;
        }).join(",");
      }
    }
  }
  if (["GET", "HEAD"].includes(method)) {
    url = addQueryParameters(url, remainingParameters);
  } else {
    if ("data" in remainingParameters) {
      body = remainingParameters.data;
    } else {
      if (Object.keys(remainingParameters).length) {
        body = remainingParameters;
      }
    }
  }
  if (!headers["content-type"] && typeof body !== "undefined") {
    headers["content-type"] = "application/json; charset=utf-8";
  }
  if (["PATCH", "PUT"].includes(method) && typeof body === "undefined") {
    body = "";
  }
  return Object.assign(
    { method, url, headers },
    typeof body !== "undefined" ? { body } : null,
    options.request ? { request: options.request } : null
  );
}

// pkg/dist-src/endpoint-with-defaults.js
function endpointWithDefaults(defaults, route, options) {
  return parse(merge(defaults, route, options));
}

// pkg/dist-src/with-defaults.js
function withDefaults(oldDefaults, newDefaults) {
  const DEFAULTS2 = merge(oldDefaults, newDefaults);
  const endpoint2 = endpointWithDefaults.bind(null, DEFAULTS2);
  return Object.assign(endpoint2, {
    DEFAULTS: DEFAULTS2,
    defaults: withDefaults.bind(null, DEFAULTS2),
    merge: merge.bind(null, DEFAULTS2),
    parse
  });
}

// pkg/dist-src/index.js
var endpoint = withDefaults(null, DEFAULTS);


// EXTERNAL MODULE: ./node_modules/@octokit/request/node_modules/content-type/dist/index.js
var dist = __nccwpck_require__(919);
;// CONCATENATED MODULE: ./node_modules/json-with-bigint/json-with-bigint.js
const intRegex = /^-?\d+$/;
const noiseValue = /^-?\d+n+$/; // Noise - strings that match the custom format before being converted to it
const originalStringify = JSON.stringify;
const originalParse = JSON.parse;
const customFormat = /^-?\d+n$/;

const bigIntsStringify = /([\[:])?"(-?\d+)n"($|\s*[,\}\]])/g;
const noiseStringify = /([\[:])?("-?\d+n+)n("$|"\s*[,\}\]])/g;

/**
 * @typedef {(this: any, key: string | number | undefined, value: any) => any} Replacer
 * @typedef {(key: string | number | undefined, value: any, context?: { source: string }) => any} Reviver
 */

/**
 * Checks if a value is unstringifiable according to native JSON.stringify rules.
 *
 * @param {any} val The value to check.
 * @returns {boolean} True if the value is undefined, a function, or a symbol.
 */
const isUnstringifiable = (val) =>
  val === undefined || typeof val === "function" || typeof val === "symbol";

/**
 * Checks if a value is a native JSON.rawJSON object (Node.js 22+).
 *
 * @param {any} val The value to check.
 * @returns {boolean} True if the value is a RawJSON instance.
 */
const isRawJSON = (val) =>
  val !== null &&
  typeof val === "object" &&
  val.constructor &&
  val.constructor.name === "RawJSON";

/**
 * Iteratively converts a JS value to a JSON string.
 * Used as a fallback when the native JSON.stringify hits the Maximum Call Stack size.
 * Fully compliant with JSON formatting (space), replacers, and toJSON behaviors.
 *
 * @param {any} rootValue The value to stringify.
 * @param {Replacer | Array<string | number> | null} [replacer] User's custom replacer function.
 * @param {string | number} [spaceParam] Indentation for pretty-printing.
 * @returns {string | undefined} The generated JSON string.
 */
const stringifyIteratively = (rootValue, replacer, spaceParam) => {
  let space = "";

  if (typeof spaceParam === "number") {
    space = " ".repeat(Math.min(10, Math.max(0, Math.floor(spaceParam))));
  } else if (typeof spaceParam === "string") {
    space = spaceParam.slice(0, 10);
  }

  const isFunctionReplacer = typeof replacer === "function";
  const propertyList = Array.isArray(replacer)
    ? new Set(replacer.map(String))
    : null;

  /**
   * Prepares a value for stringification by resolving toJSON, handling BigInts,
   * applying custom replacers, and unwrapping primitive objects.
   *
   * @param {object|Array} parent The parent object or array holding the value.
   * @param {string} key The key associated with the value.
   * @param {any} val The raw value to process.
   * @returns {any} The processed value ready for stringification.
   */
  const prepareVal = (parent, key, val) => {
    const isObject = val !== null && typeof val === "object";
    const hasToJSON = isObject && typeof val.toJSON === "function";

    if (hasToJSON) {
      val = val.toJSON(key);
    }

    const isNoise = typeof val === "string" && noiseValue.test(val);

    if (isNoise) return val + "n";

    const isBigInt = typeof val === "bigint";

    if (isBigInt) {
      const supportsRawJSON = "rawJSON" in JSON;

      if (supportsRawJSON) return JSON.rawJSON(val.toString());

      return val.toString() + "n";
    }

    if (isFunctionReplacer) {
      val = replacer.call(parent, key, val);
    }

    const isPostReplacerObject = val !== null && typeof val === "object";

    if (isPostReplacerObject) {
      const isPrimitiveWrapper =
        val instanceof Number ||
        val instanceof String ||
        val instanceof Boolean;

      if (isPrimitiveWrapper) {
        val = val.valueOf();
      }
    }

    return val;
  };

  const rootProcessed = prepareVal({ "": rootValue }, "", rootValue);

  if (isUnstringifiable(rootProcessed)) {
    return undefined;
  }

  const isRootPrimitive =
    rootProcessed === null || typeof rootProcessed !== "object";
  const isRootNativeRawJSON = isRawJSON(rootProcessed);

  if (isRootPrimitive || isRootNativeRawJSON) {
    return originalStringify(rootProcessed);
  }

  const chunks = [];
  let level = 0;

  const stack = [
    {
      parent: { "": rootProcessed },
      key: "",
      val: rootProcessed,
      isArray: Array.isArray(rootProcessed),
      keys: Array.isArray(rootProcessed) ? null : Object.keys(rootProcessed),
      index: 0,
      first: true,
    },
  ];

  const visited = new WeakSet([rootProcessed]);

  while (stack.length > 0) {
    const node = stack[stack.length - 1];

    if (node.index === 0) {
      chunks.push(node.isArray ? "[" : "{");
      level++;
    }

    let isDone = false;

    if (node.isArray) {
      if (node.index < node.val.length) {
        if (!node.first) chunks.push(",");

        if (space) chunks.push("\n" + space.repeat(level));

        const childRaw = node.val[node.index];
        const childVal = prepareVal(node.val, String(node.index), childRaw);

        if (isUnstringifiable(childVal)) {
          chunks.push("null");
          node.first = false;
          node.index++;
        } else {
          const isComplexObject =
            childVal !== null && typeof childVal === "object";
          const isNativeRaw = isRawJSON(childVal);

          if (isComplexObject && !isNativeRaw) {
            if (visited.has(childVal)) {
              throw new TypeError("Converting circular structure to JSON");
            }

            visited.add(childVal);

            stack.push({
              parent: node.val,
              key: String(node.index),
              val: childVal,
              isArray: Array.isArray(childVal),
              keys: Array.isArray(childVal) ? null : Object.keys(childVal),
              index: 0,
              first: true,
            });

            node.first = false;
            node.index++;
          } else {
            chunks.push(originalStringify(childVal));
            node.first = false;
            node.index++;
          }
        }
      } else {
        isDone = true;
      }
    } else {
      while (node.index < node.keys.length) {
        const k = node.keys[node.index++];

        const isFilteredOutByArray = propertyList && !propertyList.has(k);

        if (isFilteredOutByArray) continue;

        const childRaw = node.val[k];
        const childVal = prepareVal(node.val, k, childRaw);

        if (isUnstringifiable(childVal)) continue;

        if (!node.first) chunks.push(",");

        if (space) {
          chunks.push("\n" + space.repeat(level) + originalStringify(k) + ": ");
        } else {
          chunks.push(originalStringify(k) + ":");
        }

        const isComplexObject =
          childVal !== null && typeof childVal === "object";
        const isNativeRaw = isRawJSON(childVal);

        if (isComplexObject && !isNativeRaw) {
          if (visited.has(childVal)) {
            throw new TypeError("Converting circular structure to JSON");
          }

          visited.add(childVal);

          stack.push({
            parent: node.val,
            key: k,
            val: childVal,
            isArray: Array.isArray(childVal),
            keys: Array.isArray(childVal) ? null : Object.keys(childVal),
            index: 0,
            first: true,
          });

          node.first = false;

          break; // Stop current loop level to process the newly pushed stack node
        } else {
          chunks.push(originalStringify(childVal));
          node.first = false;
        }
      }

      const isNodeFullyProcessed =
        node.index >= node.keys.length && stack[stack.length - 1] === node;

      if (isNodeFullyProcessed) {
        isDone = true;
      }
    }

    if (isDone) {
      level--;

      if (!node.first && space) chunks.push("\n" + space.repeat(level));

      chunks.push(node.isArray ? "]" : "}");
      visited.delete(node.val);
      stack.pop();
    }
  }

  return chunks.join("");
};

/**
 * Converts a JavaScript value to a JSON string.
 *
 * Supports serialization of BigInt values using two strategies:
 * 1. Custom format "123n" → "123" (universal fallback)
 * 2. Native JSON.rawJSON() (Node.js 22+, fastest) when available
 *
 * All other values are serialized exactly like native JSON.stringify().
 *
 * @param {*} value The value to convert to a JSON string.
 * @param {Replacer | Array<string | number> | null} [replacer]
 * A function that alters the behavior of the stringification process,
 * or an array of strings/numbers to indicate properties to exclude.
 * @param {string | number} [space]
 * A string or number to specify indentation or pretty-printing.
 * @returns {string} The JSON string representation.
 */
const JSONStringify = (value, replacer, space) => {
  try {
    const supportsRawJSON = "rawJSON" in JSON;

    if (supportsRawJSON) {
      return originalStringify(
        value,
        (key, val) => {
          if (typeof val === "bigint") return JSON.rawJSON(val.toString());

          const hasFunctionReplacer = typeof replacer === "function";

          if (hasFunctionReplacer) return replacer(key, val);

          const isKeyInArrayReplacer =
            Array.isArray(replacer) && replacer.includes(key);

          if (isKeyInArrayReplacer) return val;

          return val;
        },
        space,
      );
    }

    if (!value) return originalStringify(value, replacer, space);

    const convertedToCustomJSON = originalStringify(
      value,
      (key, val) => {
        const isNoise = typeof val === "string" && noiseValue.test(val);

        if (isNoise) return val.toString() + "n"; // Mark noise values with additional "n" to offset the deletion of one "n" during the processing

        if (typeof val === "bigint") return val.toString() + "n";

        const hasFunctionReplacer = typeof replacer === "function";

        if (hasFunctionReplacer) return replacer(key, val);

        const isKeyInArrayReplacer =
          Array.isArray(replacer) && replacer.includes(key);

        if (isKeyInArrayReplacer) return val;

        return val;
      },
      space,
    );

    const processedJSON = convertedToCustomJSON.replace(
      bigIntsStringify,
      "$1$2$3",
    ); // Delete one "n" off the end of every BigInt value

    const denoisedJSON = processedJSON.replace(noiseStringify, "$1$2$3"); // Remove one "n" off the end of every noisy string

    return denoisedJSON;
  } catch (error) {
    if (error instanceof RangeError) {
      const convertedJSON = stringifyIteratively(value, replacer, space);

      if (convertedJSON === undefined) return undefined;

      const supportsRawJSON = "rawJSON" in JSON;

      if (supportsRawJSON) return convertedJSON;

      const processedJSON = convertedJSON.replace(bigIntsStringify, "$1$2$3");

      return processedJSON.replace(noiseStringify, "$1$2$3");
    }

    throw error;
  }
};

const featureCache = new Map();

/**
 * Detects if the current JSON.parse implementation supports the context.source feature.
 *
 * Uses toString() fingerprinting to cache results and automatically detect runtime
 * replacements of JSON.parse (polyfills, mocks, etc.).
 *
 * @returns {boolean} true if context.source is supported, false otherwise.
 */
const isContextSourceSupported = () => {
  const parseFingerprint = JSON.parse.toString();

  if (featureCache.has(parseFingerprint)) {
    return featureCache.get(parseFingerprint);
  }

  try {
    const result = JSON.parse(
      "1",
      (_, __, context) => !!context?.source && context.source === "1",
    );
    featureCache.set(parseFingerprint, result);

    return result;
  } catch {
    featureCache.set(parseFingerprint, false);

    return false;
  }
};

/**
 * Reviver function that converts custom-format BigInt strings back to BigInt values.
 * Also handles "noise" strings that accidentally match the BigInt format.
 *
 * @param {string | number | undefined} key The object key.
 * @param {*} value The value being parsed.
 * @param {object} [context] Parse context (if supported by JSON.parse).
 * @param {Reviver} [userReviver] User's custom reviver function.
 * @returns {any} The transformed value.
 */
const convertMarkedBigIntsReviver = (key, value, context, userReviver) => {
  const isCustomFormatBigInt =
    typeof value === "string" && customFormat.test(value);

  if (isCustomFormatBigInt) return BigInt(value.slice(0, -1));

  const isNoiseValue = typeof value === "string" && noiseValue.test(value);
  if (isNoiseValue) return value.slice(0, -1);

  const hasUserReviver = typeof userReviver === "function";

  if (!hasUserReviver) return value;

  return userReviver(key, value, context);
};

/**
 * Fast JSON.parse implementation (~2x faster than classic fallback).
 * Uses JSON.parse's context.source feature to detect integers and convert
 * large numbers directly to BigInt without string manipulation.
 *
 * Does not support legacy custom format from v1 of this library.
 *
 * @param {string} text JSON string to parse.
 * @param {Reviver} [reviver] Transform function to apply to each value.
 * @returns {any} Parsed JavaScript value.
 */
const JSONParseV2 = (text, reviver) => {
  return JSON.parse(text, (key, value, context) => {
    const isNumber = typeof value === "number";
    const isOutOfBounds =
      value > Number.MAX_SAFE_INTEGER || value < Number.MIN_SAFE_INTEGER;
    const isBigNumber = isNumber && isOutOfBounds;
    const isInt = context && intRegex.test(context.source);
    const isBigInt = isBigNumber && isInt;

    if (isBigInt) return BigInt(context.source);

    const hasCustomReviver = typeof reviver === "function";

    if (!hasCustomReviver) return value;

    return reviver(key, value, context);
  });
};

const MAX_INT = Number.MAX_SAFE_INTEGER.toString();
const MAX_DIGITS = MAX_INT.length;
const stringsOrLargeNumbers =
  /"(?:[^"\\]|\\.)*"|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/g;
const noiseValueWithQuotes = /^"-?\d+n+"$/; // Noise - strings that match the custom format before being converted to it

/**
 * Iteratively traverses the parsed object bottom-up (post-order),
 * emulating the native JSON.parse reviver behavior.
 * This avoids Call Stack overflows (RangeError) on deeply nested structures.
 *
 * @param {any} parsed The natively parsed JSON object.
 * @param {Reviver} [userReviver] User's custom reviver function.
 * @returns {any} The fully processed object.
 */
const applyReviverIteratively = (parsed, userReviver) => {
  const rootHolder = { "": parsed };
  const stack = [{ parent: rootHolder, key: "", visited: false }];

  while (stack.length > 0) {
    const node = stack[stack.length - 1];

    if (!node.visited) {
      node.visited = true;

      const value = node.parent[node.key];
      const isComplexObject = value !== null && typeof value === "object";

      if (isComplexObject) {
        const keys = Object.keys(value);

        for (let i = keys.length - 1; i >= 0; i--) {
          stack.push({ parent: value, key: keys[i], visited: false });
        }
      }
    } else {
      const { parent, key } = node;
      let value = parent[key];

      if (typeof value === "string") {
        const isCustomFormatBigInt = customFormat.test(value);

        if (isCustomFormatBigInt) {
          value = BigInt(value.slice(0, -1));
        } else {
          const isNoise = noiseValue.test(value);

          if (isNoise) value = value.slice(0, -1);
        }
      }

      const hasUserReviver = typeof userReviver === "function";

      if (hasUserReviver) {
        value = userReviver.call(parent, key, value);
      }

      const isDeleted = value === undefined;

      if (isDeleted) {
        delete parent[key];
      } else {
        parent[key] = value;
      }

      stack.pop();
    }
  }

  return rootHolder[""];
};

/**
 * Pre-processes the JSON string to mark large numbers with an 'n' suffix.
 *
 * @param {string} text The raw JSON string.
 * @returns {string} The serialized string with marked BigInts.
 */
const serializeBigInts = (text) => {
  return text.replace(
    stringsOrLargeNumbers,
    (match, digits, fractional, exponential) => {
      const isString = match[0] === '"';
      const isNoise = isString && noiseValueWithQuotes.test(match);

      if (isNoise) return match.substring(0, match.length - 1) + 'n"'; // Mark noise values with additional "n" to offset the deletion of one "n" during the processing

      const hasFractionalOrExponential = fractional || exponential;

      // With a fixed number of digits, we can correctly use lexicographical comparison to do a numeric comparison
      const isLessThanMaxSafeInt =
        digits &&
        (digits.length < MAX_DIGITS ||
          (digits.length === MAX_DIGITS && digits <= MAX_INT));

      const isStandardValue =
        isString || hasFractionalOrExponential || isLessThanMaxSafeInt;

      if (isStandardValue) return match;

      return '"' + match + 'n"';
    },
  );
};

/**
 * Converts a JSON string into a JavaScript value.
 *
 * Supports parsing of large integers using two strategies:
 * 1. Classic fallback: Marks large numbers with "123n" format, then converts to BigInt
 * 2. Fast path (JSONParseV2): Uses context.source feature (~2x faster) when available
 *
 * All other JSON values are parsed exactly like native JSON.parse().
 *
 * @param {string} text A valid JSON string.
 * @param {Reviver} [reviver]
 * A function that transforms the results. This function is called for each member
 * of the object. If a member contains nested objects, the nested objects are
 * transformed before the parent object is.
 * @returns {any} The parsed JavaScript value.
 * @throws {SyntaxError} If text is not valid JSON.
 */
const JSONParse = (text, reviver) => {
  if (!text) return originalParse(text, reviver);

  try {
    if (isContextSourceSupported()) return JSONParseV2(text, reviver); // Shortcut to a faster (2x) and simpler version

    // Find and mark big numbers with "n"
    const serializedData = serializeBigInts(text);

    return originalParse(serializedData, (key, value, context) =>
      convertMarkedBigIntsReviver(key, value, context, reviver),
    );
  } catch (error) {
    if (error instanceof RangeError) {
      const serializedData = serializeBigInts(text);
      const parsed = originalParse(serializedData);

      return applyReviverIteratively(parsed, reviver);
    }

    throw error;
  }
};



;// CONCATENATED MODULE: ./node_modules/@octokit/request/dist-bundle/index.js
// pkg/dist-src/index.js


// pkg/dist-src/defaults.js


// pkg/dist-src/version.js
var request_dist_bundle_VERSION = "10.0.16";

// pkg/dist-src/defaults.js
var defaults_default = {
  headers: {
    "user-agent": `octokit-request.js/${request_dist_bundle_VERSION} ${getUserAgent()}`
  }
};

// pkg/dist-src/fetch-wrapper.js



// pkg/dist-src/is-plain-object.js
function dist_bundle_isPlainObject(value) {
  if (typeof value !== "object" || value === null) return false;
  if (Object.prototype.toString.call(value) !== "[object Object]") return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === null) return true;
  const Ctor = Object.prototype.hasOwnProperty.call(proto, "constructor") && proto.constructor;
  return typeof Ctor === "function" && Ctor instanceof Ctor && Function.prototype.call(Ctor) === Function.prototype.call(value);
}

// pkg/dist-src/fetch-wrapper.js

var dist_bundle_noop = () => "";
async function fetchWrapper(requestOptions) {
  const fetch = requestOptions.request?.fetch || globalThis.fetch;
  if (!fetch) {
    throw new Error(
      "fetch is not set. Please pass a fetch implementation as new Octokit({ request: { fetch }}). Learn more at https://github.com/octokit/octokit.js/#fetch-missing"
    );
  }
  const log = requestOptions.request?.log || console;
  const parseSuccessResponseBody = requestOptions.request?.parseSuccessResponseBody !== false;
  const body = dist_bundle_isPlainObject(requestOptions.body) || Array.isArray(requestOptions.body) ? JSONStringify(requestOptions.body) : requestOptions.body;
  const requestHeaders = Object.fromEntries(
    Object.entries(requestOptions.headers).map(([name, value]) => [
      name,
      String(value)
    ])
  );
  let fetchResponse;
  try {
    fetchResponse = await fetch(requestOptions.url, {
      method: requestOptions.method,
      body,
      redirect: requestOptions.request?.redirect,
      headers: requestHeaders,
      signal: requestOptions.request?.signal,
      // duplex must be set if request.body is ReadableStream or Async Iterables.
      // See https://fetch.spec.whatwg.org/#dom-requestinit-duplex.
      ...requestOptions.body && { duplex: "half" }
    });
  } catch (error) {
    let message = "Unknown Error";
    if (error instanceof Error) {
      if (error.name === "AbortError") {
        error.status = 500;
        throw error;
      }
      message = error.message;
      if (error.name === "TypeError" && "cause" in error) {
        if (error.cause instanceof Error) {
          message = error.cause.message;
        } else if (typeof error.cause === "string") {
          message = error.cause;
        }
      }
    }
    const requestError = new RequestError(message, 500, {
      request: requestOptions
    });
    requestError.cause = error;
    throw requestError;
  }
  const status = fetchResponse.status;
  const url = fetchResponse.url;
  const responseHeaders = {};
  for (const [key, value] of fetchResponse.headers) {
    responseHeaders[key] = value;
  }
  const octokitResponse = {
    url,
    status,
    headers: responseHeaders,
    data: ""
  };
  if ("deprecation" in responseHeaders) {
    const matches = responseHeaders.link && responseHeaders.link.match(/<([^<>]+)>; rel="deprecation"/);
    const deprecationLink = matches && matches.pop();
    log.warn(
      `[@octokit/request] "${requestOptions.method} ${requestOptions.url}" is deprecated. It is scheduled to be removed on ${responseHeaders.sunset}${deprecationLink ? `. See ${deprecationLink}` : ""}`
    );
  }
  if (status === 204 || status === 205) {
    return octokitResponse;
  }
  if (requestOptions.method === "HEAD") {
    if (status < 400) {
      return octokitResponse;
    }
    throw new RequestError(fetchResponse.statusText, status, {
      response: octokitResponse,
      request: requestOptions
    });
  }
  if (status === 304) {
    octokitResponse.data = await getResponseData(fetchResponse);
    throw new RequestError("Not modified", status, {
      response: octokitResponse,
      request: requestOptions
    });
  }
  if (status >= 400) {
    octokitResponse.data = await getResponseData(fetchResponse);
    throw new RequestError(toErrorMessage(octokitResponse.data), status, {
      response: octokitResponse,
      request: requestOptions
    });
  }
  octokitResponse.data = parseSuccessResponseBody ? await getResponseData(fetchResponse) : fetchResponse.body;
  return octokitResponse;
}
async function getResponseData(response) {
  const contentType = response.headers.get("content-type");
  if (!contentType) {
    return response.text().catch(dist_bundle_noop);
  }
  const mimetype = (0,dist/* parse */.qg)(contentType);
  if (isJSONResponse(mimetype)) {
    let text = "";
    try {
      text = await response.text();
      return JSONParse(text);
    } catch (err) {
      return text;
    }
  } else if (mimetype.type.startsWith("text/") || // `application/octet-stream` is the canonical "arbitrary binary" type
  // (RFC 2046) and must never be decoded as text, even when the response
  // carries a (misleading) `charset=utf-8` parameter — see #751.
  mimetype.parameters.charset?.toLowerCase() === "utf-8" && mimetype.type !== "application/octet-stream") {
    return response.text().catch(dist_bundle_noop);
  } else {
    return response.arrayBuffer().catch(
      /* v8 ignore next -- @preserve */
      () => new ArrayBuffer(0)
    );
  }
}
function isJSONResponse(mimetype) {
  return mimetype.type === "application/json" || mimetype.type === "application/scim+json";
}
function toErrorMessage(data) {
  if (typeof data === "string") {
    return data;
  }
  if (data instanceof ArrayBuffer) {
    return "Unknown error";
  }
  if (typeof data === "object" && data !== null && "message" in data) {
    const objectData = data;
    const suffix = "documentation_url" in objectData ? ` - ${objectData.documentation_url}` : "";
    return Array.isArray(objectData.errors) ? `${objectData.message}: ${objectData.errors.map((v) => JSON.stringify(v)).join(", ")}${suffix}` : `${objectData.message}${suffix}`;
  }
  return `Unknown error: ${JSON.stringify(data)}`;
}

// pkg/dist-src/with-defaults.js
function dist_bundle_withDefaults(oldEndpoint, newDefaults) {
  const endpoint2 = oldEndpoint.defaults(newDefaults);
  const newApi = function(route, parameters) {
    const endpointOptions = endpoint2.merge(route, parameters);
    if (!endpointOptions.request || !endpointOptions.request.hook) {
      return fetchWrapper(endpoint2.parse(endpointOptions));
    }
    const request2 = (route2, parameters2) => {
      return fetchWrapper(
        endpoint2.parse(endpoint2.merge(route2, parameters2))
      );
    };
    Object.assign(request2, {
      endpoint: endpoint2,
      defaults: dist_bundle_withDefaults.bind(null, endpoint2)
    });
    return endpointOptions.request.hook(request2, endpointOptions);
  };
  return Object.assign(newApi, {
    endpoint: endpoint2,
    defaults: dist_bundle_withDefaults.bind(null, endpoint2)
  });
}

// pkg/dist-src/index.js
var request = dist_bundle_withDefaults(endpoint, defaults_default);

/* v8 ignore next -- @preserve */
/* v8 ignore else -- @preserve */

;// CONCATENATED MODULE: ./node_modules/@octokit/graphql/dist-bundle/index.js
// pkg/dist-src/index.js



// pkg/dist-src/version.js
var graphql_dist_bundle_VERSION = "0.0.0-development";

// pkg/dist-src/with-defaults.js


// pkg/dist-src/graphql.js


// pkg/dist-src/error.js
function _buildMessageForResponseErrors(data) {
  return `Request failed due to following response errors:
` + data.errors.map((e) => ` - ${e.message}`).join("\n");
}
var GraphqlResponseError = class extends Error {
  constructor(request2, headers, response) {
    super(_buildMessageForResponseErrors(response));
    this.request = request2;
    this.headers = headers;
    this.response = response;
    this.errors = response.errors;
    this.data = response.data;
    if (Error.captureStackTrace) {
      Error.captureStackTrace(this, this.constructor);
    }
  }
  request;
  headers;
  response;
  name = "GraphqlResponseError";
  errors;
  data;
};

// pkg/dist-src/graphql.js
var NON_VARIABLE_OPTIONS = [
  "method",
  "baseUrl",
  "url",
  "headers",
  "request",
  "query",
  "mediaType",
  "operationName"
];
var FORBIDDEN_VARIABLE_OPTIONS = ["query", "method", "url"];
var GHES_V3_SUFFIX_REGEX = /\/api\/v3\/?$/;
function graphql(request2, query, options) {
  if (options) {
    if (typeof query === "string" && "query" in options) {
      return Promise.reject(
        new Error(`[@octokit/graphql] "query" cannot be used as variable name`)
      );
    }
    for (const key in options) {
      if (!FORBIDDEN_VARIABLE_OPTIONS.includes(key)) continue;
      return Promise.reject(
        new Error(
          `[@octokit/graphql] "${key}" cannot be used as variable name`
        )
      );
    }
  }
  const parsedOptions = typeof query === "string" ? Object.assign({ query }, options) : query;
  const requestOptions = Object.keys(
    parsedOptions
  ).reduce((result, key) => {
    if (NON_VARIABLE_OPTIONS.includes(key)) {
      result[key] = parsedOptions[key];
      return result;
    }
    if (!result.variables) {
      result.variables = {};
    }
    result.variables[key] = parsedOptions[key];
    return result;
  }, {});
  const baseUrl = parsedOptions.baseUrl || request2.endpoint.DEFAULTS.baseUrl;
  if (GHES_V3_SUFFIX_REGEX.test(baseUrl)) {
    requestOptions.url = baseUrl.replace(GHES_V3_SUFFIX_REGEX, "/api/graphql");
  }
  return request2(requestOptions).then((response) => {
    if (response.data.errors) {
      const headers = {};
      for (const key of Object.keys(response.headers)) {
        headers[key] = response.headers[key];
      }
      throw new GraphqlResponseError(
        requestOptions,
        headers,
        response.data
      );
    }
    return response.data.data;
  });
}

// pkg/dist-src/with-defaults.js
function graphql_dist_bundle_withDefaults(request2, newDefaults) {
  const newRequest = request2.defaults(newDefaults);
  const newApi = (query, options) => {
    return graphql(newRequest, query, options);
  };
  return Object.assign(newApi, {
    defaults: graphql_dist_bundle_withDefaults.bind(null, newRequest),
    endpoint: newRequest.endpoint
  });
}

// pkg/dist-src/index.js
var graphql2 = graphql_dist_bundle_withDefaults(request, {
  headers: {
    "user-agent": `octokit-graphql.js/${graphql_dist_bundle_VERSION} ${getUserAgent()}`
  },
  method: "POST",
  url: "/graphql"
});
function withCustomRequest(customRequest) {
  return graphql_dist_bundle_withDefaults(customRequest, {
    method: "POST",
    url: "/graphql"
  });
}

/* v8 ignore if -- @preserve */

;// CONCATENATED MODULE: ./node_modules/@octokit/auth-token/dist-bundle/index.js
// pkg/dist-src/is-jwt.js
var b64url = "(?:[a-zA-Z0-9_-]+)";
var sep = "\\.";
var jwtRE = new RegExp(`^${b64url}${sep}${b64url}${sep}${b64url}$`);
var isJWT = jwtRE.test.bind(jwtRE);

// pkg/dist-src/auth.js
async function auth(token) {
  const isApp = isJWT(token);
  const isInstallation = token.startsWith("v1.") || token.startsWith("ghs_");
  const isUserToServer = token.startsWith("ghu_");
  const tokenType = isApp ? "app" : isInstallation ? "installation" : isUserToServer ? "user-to-server" : "oauth";
  return {
    type: "token",
    token,
    tokenType
  };
}

// pkg/dist-src/with-authorization-prefix.js
function withAuthorizationPrefix(token) {
  if (token.split(/\./).length === 3) {
    return `bearer ${token}`;
  }
  return `token ${token}`;
}

// pkg/dist-src/hook.js
async function hook(token, request, route, parameters) {
  const endpoint = request.endpoint.merge(
    route,
    parameters
  );
  endpoint.headers.authorization = withAuthorizationPrefix(token);
  return request(endpoint);
}

// pkg/dist-src/index.js
var createTokenAuth = function createTokenAuth2(token) {
  if (!token) {
    throw new Error("[@octokit/auth-token] No token passed to createTokenAuth");
  }
  if (typeof token !== "string") {
    throw new Error(
      "[@octokit/auth-token] Token passed to createTokenAuth is not a string"
    );
  }
  token = token.replace(/^(token|bearer) +/i, "");
  return Object.assign(auth.bind(null, token), {
    hook: hook.bind(null, token)
  });
};


;// CONCATENATED MODULE: ./node_modules/@octokit/core/dist-src/version.js
const version_VERSION = "7.0.8";


;// CONCATENATED MODULE: ./node_modules/@octokit/core/dist-src/index.js






const dist_src_noop = () => {
};
const consoleWarn = console.warn.bind(console);
const consoleError = console.error.bind(console);
function createLogger(logger = {}) {
  if (typeof logger.debug !== "function") {
    logger.debug = dist_src_noop;
  }
  if (typeof logger.info !== "function") {
    logger.info = dist_src_noop;
  }
  if (typeof logger.warn !== "function") {
    logger.warn = consoleWarn;
  }
  if (typeof logger.error !== "function") {
    logger.error = consoleError;
  }
  return logger;
}
const userAgentTrail = `octokit-core.js/${version_VERSION} ${getUserAgent()}`;
class Octokit {
  static VERSION = version_VERSION;
  static defaults(defaults) {
    const OctokitWithDefaults = class extends this {
      constructor(...args) {
        const options = args[0] || {};
        if (typeof defaults === "function") {
          super(defaults(options));
          return;
        }
        super(
          Object.assign(
            {},
            defaults,
            options,
            options.userAgent && defaults.userAgent ? {
              userAgent: `${options.userAgent} ${defaults.userAgent}`
            } : null
          )
        );
      }
    };
    return OctokitWithDefaults;
  }
  static plugins = [];
  /**
   * Attach a plugin (or many) to your Octokit instance.
   *
   * @example
   * const API = Octokit.plugin(plugin1, plugin2, plugin3, ...)
   */
  static plugin(...newPlugins) {
    const currentPlugins = this.plugins;
    const NewOctokit = class extends this {
      static plugins = currentPlugins.concat(
        newPlugins.filter((plugin) => !currentPlugins.includes(plugin))
      );
    };
    return NewOctokit;
  }
  constructor(options = {}) {
    const hook = new before_after_hook.Collection();
    const requestDefaults = {
      baseUrl: request.endpoint.DEFAULTS.baseUrl,
      headers: {},
      request: Object.assign({}, options.request, {
        // @ts-ignore internal usage only, no need to type
        hook: hook.bind(null, "request")
      }),
      mediaType: {
        previews: [],
        format: ""
      }
    };
    requestDefaults.headers["user-agent"] = options.userAgent ? `${options.userAgent} ${userAgentTrail}` : userAgentTrail;
    if (options.baseUrl) {
      requestDefaults.baseUrl = options.baseUrl;
    }
    if (options.previews) {
      requestDefaults.mediaType.previews = options.previews;
    }
    if (options.timeZone) {
      requestDefaults.headers["time-zone"] = options.timeZone;
    }
    this.request = request.defaults(requestDefaults);
    this.graphql = withCustomRequest(this.request).defaults(requestDefaults);
    this.log = createLogger(options.log);
    this.hook = hook;
    if (!options.authStrategy) {
      if (!options.auth) {
        this.auth = async () => ({
          type: "unauthenticated"
        });
      } else {
        const auth = createTokenAuth(options.auth);
        hook.wrap("request", auth.hook);
        this.auth = auth;
      }
    } else {
      const { authStrategy, ...otherOptions } = options;
      const auth = authStrategy(
        Object.assign(
          {
            request: this.request,
            log: this.log,
            // we pass the current octokit instance as well as its constructor options
            // to allow for authentication strategies that return a new octokit instance
            // that shares the same internal state as the current one. The original
            // requirement for this was the "event-octokit" authentication strategy
            // of https://github.com/probot/octokit-auth-probot.
            octokit: this,
            octokitOptions: otherOptions
          },
          options.auth
        )
      );
      hook.wrap("request", auth.hook);
      this.auth = auth;
    }
    const classConstructor = this.constructor;
    for (let i = 0; i < classConstructor.plugins.length; ++i) {
      Object.assign(this, classConstructor.plugins[i](this, options));
    }
  }
  // assigned during constructor
  request;
  graphql;
  log;
  hook;
  // TODO: type `octokit.auth` based on passed options.authStrategy
  auth;
}


;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-request-log/dist-src/version.js
const dist_src_version_VERSION = "6.0.0";


;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-request-log/dist-src/index.js

function requestLog(octokit) {
  octokit.hook.wrap("request", (request, options) => {
    octokit.log.debug("request", options);
    const start = Date.now();
    const requestOptions = octokit.request.endpoint.parse(options);
    const path = requestOptions.url.replace(options.baseUrl, "");
    return request(options).then((response) => {
      const requestId = response.headers["x-github-request-id"];
      octokit.log.info(
        `${requestOptions.method} ${path} - ${response.status} with id ${requestId} in ${Date.now() - start}ms`
      );
      return response;
    }).catch((error) => {
      const requestId = error.response?.headers["x-github-request-id"] || "UNKNOWN";
      octokit.log.error(
        `${requestOptions.method} ${path} - ${error.status} with id ${requestId} in ${Date.now() - start}ms`
      );
      throw error;
    });
  });
}
requestLog.VERSION = dist_src_version_VERSION;


;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-paginate-rest/dist-bundle/index.js
// pkg/dist-src/version.js
var plugin_paginate_rest_dist_bundle_VERSION = "0.0.0-development";

// pkg/dist-src/normalize-paginated-list-response.js
function normalizePaginatedListResponse(response) {
  if (!response.data) {
    return {
      ...response,
      data: []
    };
  }
  const responseNeedsNormalization = ("total_count" in response.data || "total_commits" in response.data) && !("url" in response.data);
  if (!responseNeedsNormalization) return response;
  const incompleteResults = response.data.incomplete_results;
  const repositorySelection = response.data.repository_selection;
  const totalCount = response.data.total_count;
  const totalCommits = response.data.total_commits;
  delete response.data.incomplete_results;
  delete response.data.repository_selection;
  delete response.data.total_count;
  delete response.data.total_commits;
  const namespaceKey = Object.keys(response.data)[0];
  const data = response.data[namespaceKey];
  response.data = data;
  if (typeof incompleteResults !== "undefined") {
    response.data.incomplete_results = incompleteResults;
  }
  if (typeof repositorySelection !== "undefined") {
    response.data.repository_selection = repositorySelection;
  }
  response.data.total_count = totalCount;
  response.data.total_commits = totalCommits;
  return response;
}

// pkg/dist-src/iterator.js
function iterator(octokit, route, parameters) {
  const options = typeof route === "function" ? route.endpoint(parameters) : octokit.request.endpoint(route, parameters);
  const requestMethod = typeof route === "function" ? route : octokit.request;
  const method = options.method;
  const headers = options.headers;
  let url = options.url;
  return {
    [Symbol.asyncIterator]: () => ({
      async next() {
        if (!url) return { done: true };
        try {
          const response = await requestMethod({ method, url, headers });
          const normalizedResponse = normalizePaginatedListResponse(response);
          url = ((normalizedResponse.headers.link || "").match(
            /<([^<>]+)>;\s*rel="next"/
          ) || [])[1];
          if (!url && "total_commits" in normalizedResponse.data) {
            const parsedUrl = new URL(normalizedResponse.url);
            const params = parsedUrl.searchParams;
            const page = parseInt(params.get("page") || "1", 10);
            const per_page = parseInt(params.get("per_page") || "250", 10);
            if (page * per_page < normalizedResponse.data.total_commits) {
              params.set("page", String(page + 1));
              url = parsedUrl.toString();
            }
          }
          return { value: normalizedResponse };
        } catch (error) {
          if (error.status !== 409) throw error;
          url = "";
          return {
            value: {
              status: 200,
              headers: {},
              data: []
            }
          };
        }
      }
    })
  };
}

// pkg/dist-src/paginate.js
function paginate(octokit, route, parameters, mapFn) {
  if (typeof parameters === "function") {
    mapFn = parameters;
    parameters = void 0;
  }
  return gather(
    octokit,
    [],
    iterator(octokit, route, parameters)[Symbol.asyncIterator](),
    mapFn
  );
}
function gather(octokit, results, iterator2, mapFn) {
  return iterator2.next().then((result) => {
    if (result.done) {
      return results;
    }
    let earlyExit = false;
    function done() {
      earlyExit = true;
    }
    results = results.concat(
      mapFn ? mapFn(result.value, done) : result.value.data
    );
    if (earlyExit) {
      return results;
    }
    return gather(octokit, results, iterator2, mapFn);
  });
}

// pkg/dist-src/compose-paginate.js
var composePaginateRest = Object.assign(paginate, {
  iterator
});

// pkg/dist-src/generated/paginating-endpoints.js
var paginatingEndpoints = (/* unused pure expression or super */ null && ([
  "GET /advisories",
  "GET /app/hook/deliveries",
  "GET /app/installation-requests",
  "GET /app/installations",
  "GET /assignments/{assignment_id}/accepted_assignments",
  "GET /classrooms",
  "GET /classrooms/{classroom_id}/assignments",
  "GET /enterprises/{enterprise}/code-security/configurations",
  "GET /enterprises/{enterprise}/code-security/configurations/{configuration_id}/repositories",
  "GET /enterprises/{enterprise}/dependabot/alerts",
  "GET /enterprises/{enterprise}/teams",
  "GET /enterprises/{enterprise}/teams/{enterprise-team}/memberships",
  "GET /enterprises/{enterprise}/teams/{enterprise-team}/organizations",
  "GET /events",
  "GET /gists",
  "GET /gists/public",
  "GET /gists/starred",
  "GET /gists/{gist_id}/comments",
  "GET /gists/{gist_id}/commits",
  "GET /gists/{gist_id}/forks",
  "GET /installation/repositories",
  "GET /issues",
  "GET /licenses",
  "GET /marketplace_listing/plans",
  "GET /marketplace_listing/plans/{plan_id}/accounts",
  "GET /marketplace_listing/stubbed/plans",
  "GET /marketplace_listing/stubbed/plans/{plan_id}/accounts",
  "GET /networks/{owner}/{repo}/events",
  "GET /notifications",
  "GET /organizations",
  "GET /organizations/{org}/dependabot/repository-access",
  "GET /orgs/{org}/actions/cache/usage-by-repository",
  "GET /orgs/{org}/actions/hosted-runners",
  "GET /orgs/{org}/actions/permissions/repositories",
  "GET /orgs/{org}/actions/permissions/self-hosted-runners/repositories",
  "GET /orgs/{org}/actions/runner-groups",
  "GET /orgs/{org}/actions/runner-groups/{runner_group_id}/hosted-runners",
  "GET /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories",
  "GET /orgs/{org}/actions/runner-groups/{runner_group_id}/runners",
  "GET /orgs/{org}/actions/runners",
  "GET /orgs/{org}/actions/secrets",
  "GET /orgs/{org}/actions/secrets/{secret_name}/repositories",
  "GET /orgs/{org}/actions/variables",
  "GET /orgs/{org}/actions/variables/{name}/repositories",
  "GET /orgs/{org}/attestations/repositories",
  "GET /orgs/{org}/attestations/{subject_digest}",
  "GET /orgs/{org}/blocks",
  "GET /orgs/{org}/campaigns",
  "GET /orgs/{org}/code-scanning/alerts",
  "GET /orgs/{org}/code-security/configurations",
  "GET /orgs/{org}/code-security/configurations/{configuration_id}/repositories",
  "GET /orgs/{org}/codespaces",
  "GET /orgs/{org}/codespaces/secrets",
  "GET /orgs/{org}/codespaces/secrets/{secret_name}/repositories",
  "GET /orgs/{org}/copilot/billing/seats",
  "GET /orgs/{org}/copilot/metrics",
  "GET /orgs/{org}/dependabot/alerts",
  "GET /orgs/{org}/dependabot/secrets",
  "GET /orgs/{org}/dependabot/secrets/{secret_name}/repositories",
  "GET /orgs/{org}/events",
  "GET /orgs/{org}/failed_invitations",
  "GET /orgs/{org}/hooks",
  "GET /orgs/{org}/hooks/{hook_id}/deliveries",
  "GET /orgs/{org}/insights/api/route-stats/{actor_type}/{actor_id}",
  "GET /orgs/{org}/insights/api/subject-stats",
  "GET /orgs/{org}/insights/api/user-stats/{user_id}",
  "GET /orgs/{org}/installations",
  "GET /orgs/{org}/invitations",
  "GET /orgs/{org}/invitations/{invitation_id}/teams",
  "GET /orgs/{org}/issues",
  "GET /orgs/{org}/members",
  "GET /orgs/{org}/members/{username}/codespaces",
  "GET /orgs/{org}/migrations",
  "GET /orgs/{org}/migrations/{migration_id}/repositories",
  "GET /orgs/{org}/organization-roles/{role_id}/teams",
  "GET /orgs/{org}/organization-roles/{role_id}/users",
  "GET /orgs/{org}/outside_collaborators",
  "GET /orgs/{org}/packages",
  "GET /orgs/{org}/packages/{package_type}/{package_name}/versions",
  "GET /orgs/{org}/personal-access-token-requests",
  "GET /orgs/{org}/personal-access-token-requests/{pat_request_id}/repositories",
  "GET /orgs/{org}/personal-access-tokens",
  "GET /orgs/{org}/personal-access-tokens/{pat_id}/repositories",
  "GET /orgs/{org}/private-registries",
  "GET /orgs/{org}/projects",
  "GET /orgs/{org}/projectsV2",
  "GET /orgs/{org}/projectsV2/{project_number}/fields",
  "GET /orgs/{org}/projectsV2/{project_number}/items",
  "GET /orgs/{org}/properties/values",
  "GET /orgs/{org}/public_members",
  "GET /orgs/{org}/repos",
  "GET /orgs/{org}/rulesets",
  "GET /orgs/{org}/rulesets/rule-suites",
  "GET /orgs/{org}/rulesets/{ruleset_id}/history",
  "GET /orgs/{org}/secret-scanning/alerts",
  "GET /orgs/{org}/security-advisories",
  "GET /orgs/{org}/settings/immutable-releases/repositories",
  "GET /orgs/{org}/settings/network-configurations",
  "GET /orgs/{org}/team/{team_slug}/copilot/metrics",
  "GET /orgs/{org}/teams",
  "GET /orgs/{org}/teams/{team_slug}/discussions",
  "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments",
  "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}/reactions",
  "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/reactions",
  "GET /orgs/{org}/teams/{team_slug}/invitations",
  "GET /orgs/{org}/teams/{team_slug}/members",
  "GET /orgs/{org}/teams/{team_slug}/projects",
  "GET /orgs/{org}/teams/{team_slug}/repos",
  "GET /orgs/{org}/teams/{team_slug}/teams",
  "GET /projects/{project_id}/collaborators",
  "GET /repos/{owner}/{repo}/actions/artifacts",
  "GET /repos/{owner}/{repo}/actions/caches",
  "GET /repos/{owner}/{repo}/actions/organization-secrets",
  "GET /repos/{owner}/{repo}/actions/organization-variables",
  "GET /repos/{owner}/{repo}/actions/runners",
  "GET /repos/{owner}/{repo}/actions/runs",
  "GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts",
  "GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs",
  "GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
  "GET /repos/{owner}/{repo}/actions/secrets",
  "GET /repos/{owner}/{repo}/actions/variables",
  "GET /repos/{owner}/{repo}/actions/workflows",
  "GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
  "GET /repos/{owner}/{repo}/activity",
  "GET /repos/{owner}/{repo}/assignees",
  "GET /repos/{owner}/{repo}/attestations/{subject_digest}",
  "GET /repos/{owner}/{repo}/branches",
  "GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations",
  "GET /repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs",
  "GET /repos/{owner}/{repo}/code-scanning/alerts",
  "GET /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}/instances",
  "GET /repos/{owner}/{repo}/code-scanning/analyses",
  "GET /repos/{owner}/{repo}/codespaces",
  "GET /repos/{owner}/{repo}/codespaces/devcontainers",
  "GET /repos/{owner}/{repo}/codespaces/secrets",
  "GET /repos/{owner}/{repo}/collaborators",
  "GET /repos/{owner}/{repo}/comments",
  "GET /repos/{owner}/{repo}/comments/{comment_id}/reactions",
  "GET /repos/{owner}/{repo}/commits",
  "GET /repos/{owner}/{repo}/commits/{commit_sha}/comments",
  "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
  "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
  "GET /repos/{owner}/{repo}/commits/{ref}/check-suites",
  "GET /repos/{owner}/{repo}/commits/{ref}/status",
  "GET /repos/{owner}/{repo}/commits/{ref}/statuses",
  "GET /repos/{owner}/{repo}/compare/{basehead}",
  "GET /repos/{owner}/{repo}/compare/{base}...{head}",
  "GET /repos/{owner}/{repo}/contributors",
  "GET /repos/{owner}/{repo}/dependabot/alerts",
  "GET /repos/{owner}/{repo}/dependabot/secrets",
  "GET /repos/{owner}/{repo}/deployments",
  "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
  "GET /repos/{owner}/{repo}/environments",
  "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
  "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules/apps",
  "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets",
  "GET /repos/{owner}/{repo}/environments/{environment_name}/variables",
  "GET /repos/{owner}/{repo}/events",
  "GET /repos/{owner}/{repo}/forks",
  "GET /repos/{owner}/{repo}/hooks",
  "GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries",
  "GET /repos/{owner}/{repo}/invitations",
  "GET /repos/{owner}/{repo}/issues",
  "GET /repos/{owner}/{repo}/issues/comments",
  "GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
  "GET /repos/{owner}/{repo}/issues/events",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocking",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/events",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/labels",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/reactions",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues",
  "GET /repos/{owner}/{repo}/issues/{issue_number}/timeline",
  "GET /repos/{owner}/{repo}/keys",
  "GET /repos/{owner}/{repo}/labels",
  "GET /repos/{owner}/{repo}/milestones",
  "GET /repos/{owner}/{repo}/milestones/{milestone_number}/labels",
  "GET /repos/{owner}/{repo}/notifications",
  "GET /repos/{owner}/{repo}/pages/builds",
  "GET /repos/{owner}/{repo}/projects",
  "GET /repos/{owner}/{repo}/pulls",
  "GET /repos/{owner}/{repo}/pulls/comments",
  "GET /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments",
  "GET /repos/{owner}/{repo}/releases",
  "GET /repos/{owner}/{repo}/releases/{release_id}/assets",
  "GET /repos/{owner}/{repo}/releases/{release_id}/reactions",
  "GET /repos/{owner}/{repo}/rules/branches/{branch}",
  "GET /repos/{owner}/{repo}/rulesets",
  "GET /repos/{owner}/{repo}/rulesets/rule-suites",
  "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}/history",
  "GET /repos/{owner}/{repo}/secret-scanning/alerts",
  "GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}/locations",
  "GET /repos/{owner}/{repo}/security-advisories",
  "GET /repos/{owner}/{repo}/stargazers",
  "GET /repos/{owner}/{repo}/subscribers",
  "GET /repos/{owner}/{repo}/tags",
  "GET /repos/{owner}/{repo}/teams",
  "GET /repos/{owner}/{repo}/topics",
  "GET /repositories",
  "GET /search/code",
  "GET /search/commits",
  "GET /search/issues",
  "GET /search/labels",
  "GET /search/repositories",
  "GET /search/topics",
  "GET /search/users",
  "GET /teams/{team_id}/discussions",
  "GET /teams/{team_id}/discussions/{discussion_number}/comments",
  "GET /teams/{team_id}/discussions/{discussion_number}/comments/{comment_number}/reactions",
  "GET /teams/{team_id}/discussions/{discussion_number}/reactions",
  "GET /teams/{team_id}/invitations",
  "GET /teams/{team_id}/members",
  "GET /teams/{team_id}/projects",
  "GET /teams/{team_id}/repos",
  "GET /teams/{team_id}/teams",
  "GET /user/blocks",
  "GET /user/codespaces",
  "GET /user/codespaces/secrets",
  "GET /user/emails",
  "GET /user/followers",
  "GET /user/following",
  "GET /user/gpg_keys",
  "GET /user/installations",
  "GET /user/installations/{installation_id}/repositories",
  "GET /user/issues",
  "GET /user/keys",
  "GET /user/marketplace_purchases",
  "GET /user/marketplace_purchases/stubbed",
  "GET /user/memberships/orgs",
  "GET /user/migrations",
  "GET /user/migrations/{migration_id}/repositories",
  "GET /user/orgs",
  "GET /user/packages",
  "GET /user/packages/{package_type}/{package_name}/versions",
  "GET /user/public_emails",
  "GET /user/repos",
  "GET /user/repository_invitations",
  "GET /user/social_accounts",
  "GET /user/ssh_signing_keys",
  "GET /user/starred",
  "GET /user/subscriptions",
  "GET /user/teams",
  "GET /users",
  "GET /users/{username}/attestations/{subject_digest}",
  "GET /users/{username}/events",
  "GET /users/{username}/events/orgs/{org}",
  "GET /users/{username}/events/public",
  "GET /users/{username}/followers",
  "GET /users/{username}/following",
  "GET /users/{username}/gists",
  "GET /users/{username}/gpg_keys",
  "GET /users/{username}/keys",
  "GET /users/{username}/orgs",
  "GET /users/{username}/packages",
  "GET /users/{username}/projects",
  "GET /users/{username}/projectsV2",
  "GET /users/{username}/projectsV2/{project_number}/fields",
  "GET /users/{username}/projectsV2/{project_number}/items",
  "GET /users/{username}/received_events",
  "GET /users/{username}/received_events/public",
  "GET /users/{username}/repos",
  "GET /users/{username}/social_accounts",
  "GET /users/{username}/ssh_signing_keys",
  "GET /users/{username}/starred",
  "GET /users/{username}/subscriptions"
]));

// pkg/dist-src/paginating-endpoints.js
function isPaginatingEndpoint(arg) {
  if (typeof arg === "string") {
    return paginatingEndpoints.includes(arg);
  } else {
    return false;
  }
}

// pkg/dist-src/index.js
function paginateRest(octokit) {
  return {
    paginate: Object.assign(paginate.bind(null, octokit), {
      iterator: iterator.bind(null, octokit)
    })
  };
}
paginateRest.VERSION = plugin_paginate_rest_dist_bundle_VERSION;


;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-rest-endpoint-methods/dist-src/version.js
const plugin_rest_endpoint_methods_dist_src_version_VERSION = "17.0.0";

//# sourceMappingURL=version.js.map

;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-rest-endpoint-methods/dist-src/generated/endpoints.js
const Endpoints = {
  actions: {
    addCustomLabelsToSelfHostedRunnerForOrg: [
      "POST /orgs/{org}/actions/runners/{runner_id}/labels"
    ],
    addCustomLabelsToSelfHostedRunnerForRepo: [
      "POST /repos/{owner}/{repo}/actions/runners/{runner_id}/labels"
    ],
    addRepoAccessToSelfHostedRunnerGroupInOrg: [
      "PUT /orgs/{org}/actions/runner-groups/{runner_group_id}/repositories/{repository_id}"
    ],
    addSelectedRepoToOrgSecret: [
      "PUT /orgs/{org}/actions/secrets/{secret_name}/repositories/{repository_id}"
    ],
    addSelectedRepoToOrgVariable: [
      "PUT /orgs/{org}/actions/variables/{name}/repositories/{repository_id}"
    ],
    approveWorkflowRun: [
      "POST /repos/{owner}/{repo}/actions/runs/{run_id}/approve"
    ],
    cancelWorkflowRun: [
      "POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel"
    ],
    createEnvironmentVariable: [
      "POST /repos/{owner}/{repo}/environments/{environment_name}/variables"
    ],
    createHostedRunnerForOrg: ["POST /orgs/{org}/actions/hosted-runners"],
    createOrUpdateEnvironmentSecret: [
      "PUT /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}"
    ],
    createOrUpdateOrgSecret: ["PUT /orgs/{org}/actions/secrets/{secret_name}"],
    createOrUpdateRepoSecret: [
      "PUT /repos/{owner}/{repo}/actions/secrets/{secret_name}"
    ],
    createOrgVariable: ["POST /orgs/{org}/actions/variables"],
    createRegistrationTokenForOrg: [
      "POST /orgs/{org}/actions/runners/registration-token"
    ],
    createRegistrationTokenForRepo: [
      "POST /repos/{owner}/{repo}/actions/runners/registration-token"
    ],
    createRemoveTokenForOrg: ["POST /orgs/{org}/actions/runners/remove-token"],
    createRemoveTokenForRepo: [
      "POST /repos/{owner}/{repo}/actions/runners/remove-token"
    ],
    createRepoVariable: ["POST /repos/{owner}/{repo}/actions/variables"],
    createWorkflowDispatch: [
      "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"
    ],
    deleteActionsCacheById: [
      "DELETE /repos/{owner}/{repo}/actions/caches/{cache_id}"
    ],
    deleteActionsCacheByKey: [
      "DELETE /repos/{owner}/{repo}/actions/caches{?key,ref}"
    ],
    deleteArtifact: [
      "DELETE /repos/{owner}/{repo}/actions/artifacts/{artifact_id}"
    ],
    deleteCustomImageFromOrg: [
      "DELETE /orgs/{org}/actions/hosted-runners/images/custom/{image_definition_id}"
    ],
    deleteCustomImageVersionFromOrg: [
      "DELETE /orgs/{org}/actions/hosted-runners/images/custom/{image_definition_id}/versions/{version}"
    ],
    deleteEnvironmentSecret: [
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}"
    ],
    deleteEnvironmentVariable: [
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}/variables/{name}"
    ],
    deleteHostedRunnerForOrg: [
      "DELETE /orgs/{org}/actions/hosted-runners/{hosted_runner_id}"
    ],
    deleteOrgSecret: ["DELETE /orgs/{org}/actions/secrets/{secret_name}"],
    deleteOrgVariable: ["DELETE /orgs/{org}/actions/variables/{name}"],
    deleteRepoSecret: [
      "DELETE /repos/{owner}/{repo}/actions/secrets/{secret_name}"
    ],
    deleteRepoVariable: [
      "DELETE /repos/{owner}/{repo}/actions/variables/{name}"
    ],
    deleteSelfHostedRunnerFromOrg: [
      "DELETE /orgs/{org}/actions/runners/{runner_id}"
    ],
    deleteSelfHostedRunnerFromRepo: [
      "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}"
    ],
    deleteWorkflowRun: ["DELETE /repos/{owner}/{repo}/actions/runs/{run_id}"],
    deleteWorkflowRunLogs: [
      "DELETE /repos/{owner}/{repo}/actions/runs/{run_id}/logs"
    ],
    disableSelectedRepositoryGithubActionsOrganization: [
      "DELETE /orgs/{org}/actions/permissions/repositories/{repository_id}"
    ],
    disableWorkflow: [
      "PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/disable"
    ],
    downloadArtifact: [
      "GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}"
    ],
    downloadJobLogsForWorkflowRun: [
      "GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs"
    ],
    downloadWorkflowRunAttemptLogs: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/logs"
    ],
    downloadWorkflowRunLogs: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/logs"
    ],
    enableSelectedRepositoryGithubActionsOrganization: [
      "PUT /orgs/{org}/actions/permissions/repositories/{repository_id}"
    ],
    enableWorkflow: [
      "PUT /repos/{owner}/{repo}/actions/workflows/{workflow_id}/enable"
    ],
    forceCancelWorkflowRun: [
      "POST /repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel"
    ],
    generateRunnerJitconfigForOrg: [
      "POST /orgs/{org}/actions/runners/generate-jitconfig"
    ],
    generateRunnerJitconfigForRepo: [
      "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig"
    ],
    getActionsCacheList: ["GET /repos/{owner}/{repo}/actions/caches"],
    getActionsCacheUsage: ["GET /repos/{owner}/{repo}/actions/cache/usage"],
    getActionsCacheUsageByRepoForOrg: [
      "GET /orgs/{org}/actions/cache/usage-by-repository"
    ],
    getActionsCacheUsageForOrg: ["GET /orgs/{org}/actions/cache/usage"],
    getAllowedActionsOrganization: [
      "GET /orgs/{org}/actions/permissions/selected-actions"
    ],
    getAllowedActionsRepository: [
      "GET /repos/{owner}/{repo}/actions/permissions/selected-actions"
    ],
    getArtifact: ["GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}"],
    getCustomImageForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/images/custom/{image_definition_id}"
    ],
    getCustomImageVersionForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/images/custom/{image_definition_id}/versions/{version}"
    ],
    getCustomOidcSubClaimForRepo: [
      "GET /repos/{owner}/{repo}/actions/oidc/customization/sub"
    ],
    getEnvironmentPublicKey: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/public-key"
    ],
    getEnvironmentSecret: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets/{secret_name}"
    ],
    getEnvironmentVariable: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/variables/{name}"
    ],
    getGithubActionsDefaultWorkflowPermissionsOrganization: [
      "GET /orgs/{org}/actions/permissions/workflow"
    ],
    getGithubActionsDefaultWorkflowPermissionsRepository: [
      "GET /repos/{owner}/{repo}/actions/permissions/workflow"
    ],
    getGithubActionsPermissionsOrganization: [
      "GET /orgs/{org}/actions/permissions"
    ],
    getGithubActionsPermissionsRepository: [
      "GET /repos/{owner}/{repo}/actions/permissions"
    ],
    getHostedRunnerForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/{hosted_runner_id}"
    ],
    getHostedRunnersGithubOwnedImagesForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/images/github-owned"
    ],
    getHostedRunnersLimitsForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/limits"
    ],
    getHostedRunnersMachineSpecsForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/machine-sizes"
    ],
    getHostedRunnersPartnerImagesForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/images/partner"
    ],
    getHostedRunnersPlatformsForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/platforms"
    ],
    getJobForWorkflowRun: ["GET /repos/{owner}/{repo}/actions/jobs/{job_id}"],
    getOrgPublicKey: ["GET /orgs/{org}/actions/secrets/public-key"],
    getOrgSecret: ["GET /orgs/{org}/actions/secrets/{secret_name}"],
    getOrgVariable: ["GET /orgs/{org}/actions/variables/{name}"],
    getPendingDeploymentsForRun: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments"
    ],
    getRepoPermissions: [
      "GET /repos/{owner}/{repo}/actions/permissions",
      {},
      { renamed: ["actions", "getGithubActionsPermissionsRepository"] }
    ],
    getRepoPublicKey: ["GET /repos/{owner}/{repo}/actions/secrets/public-key"],
    getRepoSecret: ["GET /repos/{owner}/{repo}/actions/secrets/{secret_name}"],
    getRepoVariable: ["GET /repos/{owner}/{repo}/actions/variables/{name}"],
    getReviewsForRun: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals"
    ],
    getSelfHostedRunnerForOrg: ["GET /orgs/{org}/actions/runners/{runner_id}"],
    getSelfHostedRunnerForRepo: [
      "GET /repos/{owner}/{repo}/actions/runners/{runner_id}"
    ],
    getWorkflow: ["GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}"],
    getWorkflowAccessToRepository: [
      "GET /repos/{owner}/{repo}/actions/permissions/access"
    ],
    getWorkflowRun: ["GET /repos/{owner}/{repo}/actions/runs/{run_id}"],
    getWorkflowRunAttempt: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}"
    ],
    getWorkflowRunUsage: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/timing"
    ],
    getWorkflowUsage: [
      "GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/timing"
    ],
    listArtifactsForRepo: ["GET /repos/{owner}/{repo}/actions/artifacts"],
    listCustomImageVersionsForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/images/custom/{image_definition_id}/versions"
    ],
    listCustomImagesForOrg: [
      "GET /orgs/{org}/actions/hosted-runners/images/custom"
    ],
    listEnvironmentSecrets: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/secrets"
    ],
    listEnvironmentVariables: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/variables"
    ],
    listGithubHostedRunnersInGroupForOrg: [
      "GET /orgs/{org}/actions/runner-groups/{runner_group_id}/hosted-runners"
    ],
    listHostedRunnersForOrg: ["GET /orgs/{org}/actions/hosted-runners"],
    listJobsForWorkflowRun: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs"
    ],
    listJobsForWorkflowRunAttempt: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}/jobs"
    ],
    listLabelsForSelfHostedRunnerForOrg: [
      "GET /orgs/{org}/actions/runners/{runner_id}/labels"
    ],
    listLabelsForSelfHostedRunnerForRepo: [
      "GET /repos/{owner}/{repo}/actions/runners/{runner_id}/labels"
    ],
    listOrgSecrets: ["GET /orgs/{org}/actions/secrets"],
    listOrgVariables: ["GET /orgs/{org}/actions/variables"],
    listRepoOrganizationSecrets: [
      "GET /repos/{owner}/{repo}/actions/organization-secrets"
    ],
    listRepoOrganizationVariables: [
      "GET /repos/{owner}/{repo}/actions/organization-variables"
    ],
    listRepoSecrets: ["GET /repos/{owner}/{repo}/actions/secrets"],
    listRepoVariables: ["GET /repos/{owner}/{repo}/actions/variables"],
    listRepoWorkflows: ["GET /repos/{owner}/{repo}/actions/workflows"],
    listRunnerApplicationsForOrg: ["GET /orgs/{org}/actions/runners/downloads"],
    listRunnerApplicationsForRepo: [
      "GET /repos/{owner}/{repo}/actions/runners/downloads"
    ],
    listSelectedReposForOrgSecret: [
      "GET /orgs/{org}/actions/secrets/{secret_name}/repositories"
    ],
    listSelectedReposForOrgVariable: [
      "GET /orgs/{org}/actions/variables/{name}/repositories"
    ],
    listSelectedRepositoriesEnabledGithubActionsOrganization: [
      "GET /orgs/{org}/actions/permissions/repositories"
    ],
    listSelfHostedRunnersForOrg: ["GET /orgs/{org}/actions/runners"],
    listSelfHostedRunnersForRepo: ["GET /repos/{owner}/{repo}/actions/runners"],
    listWorkflowRunArtifacts: [
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts"
    ],
    listWorkflowRuns: [
      "GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"
    ],
    listWorkflowRunsForRepo: ["GET /repos/{owner}/{repo}/actions/runs"],
    reRunJobForWorkflowRun: [
      "POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun"
    ],
    reRunWorkflow: ["POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun"],
    reRunWorkflowFailedJobs: [
      "POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs"
    ],
    removeAllCustomLabelsFromSelfHostedRunnerForOrg: [
      "DELETE /orgs/{org}/actions/runners/{runner_id}/labels"
    ],
    removeAllCustomLabelsFromSelfHostedRunnerForRepo: [
      "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}/labels"
    ],
    removeCustomLabelFromSelfHostedRunnerForOrg: [
      "DELETE /orgs/{org}/actions/runners/{runner_id}/labels/{name}"
    ],
    removeCustomLabelFromSelfHostedRunnerForRepo: [
      "DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}/labels/{name}"
    ],
    removeSelectedRepoFromOrgSecret: [
      "DELETE /orgs/{org}/actions/secrets/{secret_name}/repositories/{repository_id}"
    ],
    removeSelectedRepoFromOrgVariable: [
      "DELETE /orgs/{org}/actions/variables/{name}/repositories/{repository_id}"
    ],
    reviewCustomGatesForRun: [
      "POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule"
    ],
    reviewPendingDeploymentsForRun: [
      "POST /repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments"
    ],
    setAllowedActionsOrganization: [
      "PUT /orgs/{org}/actions/permissions/selected-actions"
    ],
    setAllowedActionsRepository: [
      "PUT /repos/{owner}/{repo}/actions/permissions/selected-actions"
    ],
    setCustomLabelsForSelfHostedRunnerForOrg: [
      "PUT /orgs/{org}/actions/runners/{runner_id}/labels"
    ],
    setCustomLabelsForSelfHostedRunnerForRepo: [
      "PUT /repos/{owner}/{repo}/actions/runners/{runner_id}/labels"
    ],
    setCustomOidcSubClaimForRepo: [
      "PUT /repos/{owner}/{repo}/actions/oidc/customization/sub"
    ],
    setGithubActionsDefaultWorkflowPermissionsOrganization: [
      "PUT /orgs/{org}/actions/permissions/workflow"
    ],
    setGithubActionsDefaultWorkflowPermissionsRepository: [
      "PUT /repos/{owner}/{repo}/actions/permissions/workflow"
    ],
    setGithubActionsPermissionsOrganization: [
      "PUT /orgs/{org}/actions/permissions"
    ],
    setGithubActionsPermissionsRepository: [
      "PUT /repos/{owner}/{repo}/actions/permissions"
    ],
    setSelectedReposForOrgSecret: [
      "PUT /orgs/{org}/actions/secrets/{secret_name}/repositories"
    ],
    setSelectedReposForOrgVariable: [
      "PUT /orgs/{org}/actions/variables/{name}/repositories"
    ],
    setSelectedRepositoriesEnabledGithubActionsOrganization: [
      "PUT /orgs/{org}/actions/permissions/repositories"
    ],
    setWorkflowAccessToRepository: [
      "PUT /repos/{owner}/{repo}/actions/permissions/access"
    ],
    updateEnvironmentVariable: [
      "PATCH /repos/{owner}/{repo}/environments/{environment_name}/variables/{name}"
    ],
    updateHostedRunnerForOrg: [
      "PATCH /orgs/{org}/actions/hosted-runners/{hosted_runner_id}"
    ],
    updateOrgVariable: ["PATCH /orgs/{org}/actions/variables/{name}"],
    updateRepoVariable: [
      "PATCH /repos/{owner}/{repo}/actions/variables/{name}"
    ]
  },
  activity: {
    checkRepoIsStarredByAuthenticatedUser: ["GET /user/starred/{owner}/{repo}"],
    deleteRepoSubscription: ["DELETE /repos/{owner}/{repo}/subscription"],
    deleteThreadSubscription: [
      "DELETE /notifications/threads/{thread_id}/subscription"
    ],
    getFeeds: ["GET /feeds"],
    getRepoSubscription: ["GET /repos/{owner}/{repo}/subscription"],
    getThread: ["GET /notifications/threads/{thread_id}"],
    getThreadSubscriptionForAuthenticatedUser: [
      "GET /notifications/threads/{thread_id}/subscription"
    ],
    listEventsForAuthenticatedUser: ["GET /users/{username}/events"],
    listNotificationsForAuthenticatedUser: ["GET /notifications"],
    listOrgEventsForAuthenticatedUser: [
      "GET /users/{username}/events/orgs/{org}"
    ],
    listPublicEvents: ["GET /events"],
    listPublicEventsForRepoNetwork: ["GET /networks/{owner}/{repo}/events"],
    listPublicEventsForUser: ["GET /users/{username}/events/public"],
    listPublicOrgEvents: ["GET /orgs/{org}/events"],
    listReceivedEventsForUser: ["GET /users/{username}/received_events"],
    listReceivedPublicEventsForUser: [
      "GET /users/{username}/received_events/public"
    ],
    listRepoEvents: ["GET /repos/{owner}/{repo}/events"],
    listRepoNotificationsForAuthenticatedUser: [
      "GET /repos/{owner}/{repo}/notifications"
    ],
    listReposStarredByAuthenticatedUser: ["GET /user/starred"],
    listReposStarredByUser: ["GET /users/{username}/starred"],
    listReposWatchedByUser: ["GET /users/{username}/subscriptions"],
    listStargazersForRepo: ["GET /repos/{owner}/{repo}/stargazers"],
    listWatchedReposForAuthenticatedUser: ["GET /user/subscriptions"],
    listWatchersForRepo: ["GET /repos/{owner}/{repo}/subscribers"],
    markNotificationsAsRead: ["PUT /notifications"],
    markRepoNotificationsAsRead: ["PUT /repos/{owner}/{repo}/notifications"],
    markThreadAsDone: ["DELETE /notifications/threads/{thread_id}"],
    markThreadAsRead: ["PATCH /notifications/threads/{thread_id}"],
    setRepoSubscription: ["PUT /repos/{owner}/{repo}/subscription"],
    setThreadSubscription: [
      "PUT /notifications/threads/{thread_id}/subscription"
    ],
    starRepoForAuthenticatedUser: ["PUT /user/starred/{owner}/{repo}"],
    unstarRepoForAuthenticatedUser: ["DELETE /user/starred/{owner}/{repo}"]
  },
  apps: {
    addRepoToInstallation: [
      "PUT /user/installations/{installation_id}/repositories/{repository_id}",
      {},
      { renamed: ["apps", "addRepoToInstallationForAuthenticatedUser"] }
    ],
    addRepoToInstallationForAuthenticatedUser: [
      "PUT /user/installations/{installation_id}/repositories/{repository_id}"
    ],
    checkToken: ["POST /applications/{client_id}/token"],
    createFromManifest: ["POST /app-manifests/{code}/conversions"],
    createInstallationAccessToken: [
      "POST /app/installations/{installation_id}/access_tokens"
    ],
    deleteAuthorization: ["DELETE /applications/{client_id}/grant"],
    deleteInstallation: ["DELETE /app/installations/{installation_id}"],
    deleteToken: ["DELETE /applications/{client_id}/token"],
    getAuthenticated: ["GET /app"],
    getBySlug: ["GET /apps/{app_slug}"],
    getInstallation: ["GET /app/installations/{installation_id}"],
    getOrgInstallation: ["GET /orgs/{org}/installation"],
    getRepoInstallation: ["GET /repos/{owner}/{repo}/installation"],
    getSubscriptionPlanForAccount: [
      "GET /marketplace_listing/accounts/{account_id}"
    ],
    getSubscriptionPlanForAccountStubbed: [
      "GET /marketplace_listing/stubbed/accounts/{account_id}"
    ],
    getUserInstallation: ["GET /users/{username}/installation"],
    getWebhookConfigForApp: ["GET /app/hook/config"],
    getWebhookDelivery: ["GET /app/hook/deliveries/{delivery_id}"],
    listAccountsForPlan: ["GET /marketplace_listing/plans/{plan_id}/accounts"],
    listAccountsForPlanStubbed: [
      "GET /marketplace_listing/stubbed/plans/{plan_id}/accounts"
    ],
    listInstallationReposForAuthenticatedUser: [
      "GET /user/installations/{installation_id}/repositories"
    ],
    listInstallationRequestsForAuthenticatedApp: [
      "GET /app/installation-requests"
    ],
    listInstallations: ["GET /app/installations"],
    listInstallationsForAuthenticatedUser: ["GET /user/installations"],
    listPlans: ["GET /marketplace_listing/plans"],
    listPlansStubbed: ["GET /marketplace_listing/stubbed/plans"],
    listReposAccessibleToInstallation: ["GET /installation/repositories"],
    listSubscriptionsForAuthenticatedUser: ["GET /user/marketplace_purchases"],
    listSubscriptionsForAuthenticatedUserStubbed: [
      "GET /user/marketplace_purchases/stubbed"
    ],
    listWebhookDeliveries: ["GET /app/hook/deliveries"],
    redeliverWebhookDelivery: [
      "POST /app/hook/deliveries/{delivery_id}/attempts"
    ],
    removeRepoFromInstallation: [
      "DELETE /user/installations/{installation_id}/repositories/{repository_id}",
      {},
      { renamed: ["apps", "removeRepoFromInstallationForAuthenticatedUser"] }
    ],
    removeRepoFromInstallationForAuthenticatedUser: [
      "DELETE /user/installations/{installation_id}/repositories/{repository_id}"
    ],
    resetToken: ["PATCH /applications/{client_id}/token"],
    revokeInstallationAccessToken: ["DELETE /installation/token"],
    scopeToken: ["POST /applications/{client_id}/token/scoped"],
    suspendInstallation: ["PUT /app/installations/{installation_id}/suspended"],
    unsuspendInstallation: [
      "DELETE /app/installations/{installation_id}/suspended"
    ],
    updateWebhookConfigForApp: ["PATCH /app/hook/config"]
  },
  billing: {
    getGithubActionsBillingOrg: ["GET /orgs/{org}/settings/billing/actions"],
    getGithubActionsBillingUser: [
      "GET /users/{username}/settings/billing/actions"
    ],
    getGithubBillingPremiumRequestUsageReportOrg: [
      "GET /organizations/{org}/settings/billing/premium_request/usage"
    ],
    getGithubBillingPremiumRequestUsageReportUser: [
      "GET /users/{username}/settings/billing/premium_request/usage"
    ],
    getGithubBillingUsageReportOrg: [
      "GET /organizations/{org}/settings/billing/usage"
    ],
    getGithubBillingUsageReportUser: [
      "GET /users/{username}/settings/billing/usage"
    ],
    getGithubPackagesBillingOrg: ["GET /orgs/{org}/settings/billing/packages"],
    getGithubPackagesBillingUser: [
      "GET /users/{username}/settings/billing/packages"
    ],
    getSharedStorageBillingOrg: [
      "GET /orgs/{org}/settings/billing/shared-storage"
    ],
    getSharedStorageBillingUser: [
      "GET /users/{username}/settings/billing/shared-storage"
    ]
  },
  campaigns: {
    createCampaign: ["POST /orgs/{org}/campaigns"],
    deleteCampaign: ["DELETE /orgs/{org}/campaigns/{campaign_number}"],
    getCampaignSummary: ["GET /orgs/{org}/campaigns/{campaign_number}"],
    listOrgCampaigns: ["GET /orgs/{org}/campaigns"],
    updateCampaign: ["PATCH /orgs/{org}/campaigns/{campaign_number}"]
  },
  checks: {
    create: ["POST /repos/{owner}/{repo}/check-runs"],
    createSuite: ["POST /repos/{owner}/{repo}/check-suites"],
    get: ["GET /repos/{owner}/{repo}/check-runs/{check_run_id}"],
    getSuite: ["GET /repos/{owner}/{repo}/check-suites/{check_suite_id}"],
    listAnnotations: [
      "GET /repos/{owner}/{repo}/check-runs/{check_run_id}/annotations"
    ],
    listForRef: ["GET /repos/{owner}/{repo}/commits/{ref}/check-runs"],
    listForSuite: [
      "GET /repos/{owner}/{repo}/check-suites/{check_suite_id}/check-runs"
    ],
    listSuitesForRef: ["GET /repos/{owner}/{repo}/commits/{ref}/check-suites"],
    rerequestRun: [
      "POST /repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest"
    ],
    rerequestSuite: [
      "POST /repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest"
    ],
    setSuitesPreferences: [
      "PATCH /repos/{owner}/{repo}/check-suites/preferences"
    ],
    update: ["PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"]
  },
  codeScanning: {
    commitAutofix: [
      "POST /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}/autofix/commits"
    ],
    createAutofix: [
      "POST /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}/autofix"
    ],
    createVariantAnalysis: [
      "POST /repos/{owner}/{repo}/code-scanning/codeql/variant-analyses"
    ],
    deleteAnalysis: [
      "DELETE /repos/{owner}/{repo}/code-scanning/analyses/{analysis_id}{?confirm_delete}"
    ],
    deleteCodeqlDatabase: [
      "DELETE /repos/{owner}/{repo}/code-scanning/codeql/databases/{language}"
    ],
    getAlert: [
      "GET /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}",
      {},
      { renamedParameters: { alert_id: "alert_number" } }
    ],
    getAnalysis: [
      "GET /repos/{owner}/{repo}/code-scanning/analyses/{analysis_id}"
    ],
    getAutofix: [
      "GET /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}/autofix"
    ],
    getCodeqlDatabase: [
      "GET /repos/{owner}/{repo}/code-scanning/codeql/databases/{language}"
    ],
    getDefaultSetup: ["GET /repos/{owner}/{repo}/code-scanning/default-setup"],
    getSarif: ["GET /repos/{owner}/{repo}/code-scanning/sarifs/{sarif_id}"],
    getVariantAnalysis: [
      "GET /repos/{owner}/{repo}/code-scanning/codeql/variant-analyses/{codeql_variant_analysis_id}"
    ],
    getVariantAnalysisRepoTask: [
      "GET /repos/{owner}/{repo}/code-scanning/codeql/variant-analyses/{codeql_variant_analysis_id}/repos/{repo_owner}/{repo_name}"
    ],
    listAlertInstances: [
      "GET /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}/instances"
    ],
    listAlertsForOrg: ["GET /orgs/{org}/code-scanning/alerts"],
    listAlertsForRepo: ["GET /repos/{owner}/{repo}/code-scanning/alerts"],
    listAlertsInstances: [
      "GET /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}/instances",
      {},
      { renamed: ["codeScanning", "listAlertInstances"] }
    ],
    listCodeqlDatabases: [
      "GET /repos/{owner}/{repo}/code-scanning/codeql/databases"
    ],
    listRecentAnalyses: ["GET /repos/{owner}/{repo}/code-scanning/analyses"],
    updateAlert: [
      "PATCH /repos/{owner}/{repo}/code-scanning/alerts/{alert_number}"
    ],
    updateDefaultSetup: [
      "PATCH /repos/{owner}/{repo}/code-scanning/default-setup"
    ],
    uploadSarif: ["POST /repos/{owner}/{repo}/code-scanning/sarifs"]
  },
  codeSecurity: {
    attachConfiguration: [
      "POST /orgs/{org}/code-security/configurations/{configuration_id}/attach"
    ],
    attachEnterpriseConfiguration: [
      "POST /enterprises/{enterprise}/code-security/configurations/{configuration_id}/attach"
    ],
    createConfiguration: ["POST /orgs/{org}/code-security/configurations"],
    createConfigurationForEnterprise: [
      "POST /enterprises/{enterprise}/code-security/configurations"
    ],
    deleteConfiguration: [
      "DELETE /orgs/{org}/code-security/configurations/{configuration_id}"
    ],
    deleteConfigurationForEnterprise: [
      "DELETE /enterprises/{enterprise}/code-security/configurations/{configuration_id}"
    ],
    detachConfiguration: [
      "DELETE /orgs/{org}/code-security/configurations/detach"
    ],
    getConfiguration: [
      "GET /orgs/{org}/code-security/configurations/{configuration_id}"
    ],
    getConfigurationForRepository: [
      "GET /repos/{owner}/{repo}/code-security-configuration"
    ],
    getConfigurationsForEnterprise: [
      "GET /enterprises/{enterprise}/code-security/configurations"
    ],
    getConfigurationsForOrg: ["GET /orgs/{org}/code-security/configurations"],
    getDefaultConfigurations: [
      "GET /orgs/{org}/code-security/configurations/defaults"
    ],
    getDefaultConfigurationsForEnterprise: [
      "GET /enterprises/{enterprise}/code-security/configurations/defaults"
    ],
    getRepositoriesForConfiguration: [
      "GET /orgs/{org}/code-security/configurations/{configuration_id}/repositories"
    ],
    getRepositoriesForEnterpriseConfiguration: [
      "GET /enterprises/{enterprise}/code-security/configurations/{configuration_id}/repositories"
    ],
    getSingleConfigurationForEnterprise: [
      "GET /enterprises/{enterprise}/code-security/configurations/{configuration_id}"
    ],
    setConfigurationAsDefault: [
      "PUT /orgs/{org}/code-security/configurations/{configuration_id}/defaults"
    ],
    setConfigurationAsDefaultForEnterprise: [
      "PUT /enterprises/{enterprise}/code-security/configurations/{configuration_id}/defaults"
    ],
    updateConfiguration: [
      "PATCH /orgs/{org}/code-security/configurations/{configuration_id}"
    ],
    updateEnterpriseConfiguration: [
      "PATCH /enterprises/{enterprise}/code-security/configurations/{configuration_id}"
    ]
  },
  codesOfConduct: {
    getAllCodesOfConduct: ["GET /codes_of_conduct"],
    getConductCode: ["GET /codes_of_conduct/{key}"]
  },
  codespaces: {
    addRepositoryForSecretForAuthenticatedUser: [
      "PUT /user/codespaces/secrets/{secret_name}/repositories/{repository_id}"
    ],
    addSelectedRepoToOrgSecret: [
      "PUT /orgs/{org}/codespaces/secrets/{secret_name}/repositories/{repository_id}"
    ],
    checkPermissionsForDevcontainer: [
      "GET /repos/{owner}/{repo}/codespaces/permissions_check"
    ],
    codespaceMachinesForAuthenticatedUser: [
      "GET /user/codespaces/{codespace_name}/machines"
    ],
    createForAuthenticatedUser: ["POST /user/codespaces"],
    createOrUpdateOrgSecret: [
      "PUT /orgs/{org}/codespaces/secrets/{secret_name}"
    ],
    createOrUpdateRepoSecret: [
      "PUT /repos/{owner}/{repo}/codespaces/secrets/{secret_name}"
    ],
    createOrUpdateSecretForAuthenticatedUser: [
      "PUT /user/codespaces/secrets/{secret_name}"
    ],
    createWithPrForAuthenticatedUser: [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/codespaces"
    ],
    createWithRepoForAuthenticatedUser: [
      "POST /repos/{owner}/{repo}/codespaces"
    ],
    deleteForAuthenticatedUser: ["DELETE /user/codespaces/{codespace_name}"],
    deleteFromOrganization: [
      "DELETE /orgs/{org}/members/{username}/codespaces/{codespace_name}"
    ],
    deleteOrgSecret: ["DELETE /orgs/{org}/codespaces/secrets/{secret_name}"],
    deleteRepoSecret: [
      "DELETE /repos/{owner}/{repo}/codespaces/secrets/{secret_name}"
    ],
    deleteSecretForAuthenticatedUser: [
      "DELETE /user/codespaces/secrets/{secret_name}"
    ],
    exportForAuthenticatedUser: [
      "POST /user/codespaces/{codespace_name}/exports"
    ],
    getCodespacesForUserInOrg: [
      "GET /orgs/{org}/members/{username}/codespaces"
    ],
    getExportDetailsForAuthenticatedUser: [
      "GET /user/codespaces/{codespace_name}/exports/{export_id}"
    ],
    getForAuthenticatedUser: ["GET /user/codespaces/{codespace_name}"],
    getOrgPublicKey: ["GET /orgs/{org}/codespaces/secrets/public-key"],
    getOrgSecret: ["GET /orgs/{org}/codespaces/secrets/{secret_name}"],
    getPublicKeyForAuthenticatedUser: [
      "GET /user/codespaces/secrets/public-key"
    ],
    getRepoPublicKey: [
      "GET /repos/{owner}/{repo}/codespaces/secrets/public-key"
    ],
    getRepoSecret: [
      "GET /repos/{owner}/{repo}/codespaces/secrets/{secret_name}"
    ],
    getSecretForAuthenticatedUser: [
      "GET /user/codespaces/secrets/{secret_name}"
    ],
    listDevcontainersInRepositoryForAuthenticatedUser: [
      "GET /repos/{owner}/{repo}/codespaces/devcontainers"
    ],
    listForAuthenticatedUser: ["GET /user/codespaces"],
    listInOrganization: [
      "GET /orgs/{org}/codespaces",
      {},
      { renamedParameters: { org_id: "org" } }
    ],
    listInRepositoryForAuthenticatedUser: [
      "GET /repos/{owner}/{repo}/codespaces"
    ],
    listOrgSecrets: ["GET /orgs/{org}/codespaces/secrets"],
    listRepoSecrets: ["GET /repos/{owner}/{repo}/codespaces/secrets"],
    listRepositoriesForSecretForAuthenticatedUser: [
      "GET /user/codespaces/secrets/{secret_name}/repositories"
    ],
    listSecretsForAuthenticatedUser: ["GET /user/codespaces/secrets"],
    listSelectedReposForOrgSecret: [
      "GET /orgs/{org}/codespaces/secrets/{secret_name}/repositories"
    ],
    preFlightWithRepoForAuthenticatedUser: [
      "GET /repos/{owner}/{repo}/codespaces/new"
    ],
    publishForAuthenticatedUser: [
      "POST /user/codespaces/{codespace_name}/publish"
    ],
    removeRepositoryForSecretForAuthenticatedUser: [
      "DELETE /user/codespaces/secrets/{secret_name}/repositories/{repository_id}"
    ],
    removeSelectedRepoFromOrgSecret: [
      "DELETE /orgs/{org}/codespaces/secrets/{secret_name}/repositories/{repository_id}"
    ],
    repoMachinesForAuthenticatedUser: [
      "GET /repos/{owner}/{repo}/codespaces/machines"
    ],
    setRepositoriesForSecretForAuthenticatedUser: [
      "PUT /user/codespaces/secrets/{secret_name}/repositories"
    ],
    setSelectedReposForOrgSecret: [
      "PUT /orgs/{org}/codespaces/secrets/{secret_name}/repositories"
    ],
    startForAuthenticatedUser: ["POST /user/codespaces/{codespace_name}/start"],
    stopForAuthenticatedUser: ["POST /user/codespaces/{codespace_name}/stop"],
    stopInOrganization: [
      "POST /orgs/{org}/members/{username}/codespaces/{codespace_name}/stop"
    ],
    updateForAuthenticatedUser: ["PATCH /user/codespaces/{codespace_name}"]
  },
  copilot: {
    addCopilotSeatsForTeams: [
      "POST /orgs/{org}/copilot/billing/selected_teams"
    ],
    addCopilotSeatsForUsers: [
      "POST /orgs/{org}/copilot/billing/selected_users"
    ],
    cancelCopilotSeatAssignmentForTeams: [
      "DELETE /orgs/{org}/copilot/billing/selected_teams"
    ],
    cancelCopilotSeatAssignmentForUsers: [
      "DELETE /orgs/{org}/copilot/billing/selected_users"
    ],
    copilotMetricsForOrganization: ["GET /orgs/{org}/copilot/metrics"],
    copilotMetricsForTeam: ["GET /orgs/{org}/team/{team_slug}/copilot/metrics"],
    getCopilotOrganizationDetails: ["GET /orgs/{org}/copilot/billing"],
    getCopilotSeatDetailsForUser: [
      "GET /orgs/{org}/members/{username}/copilot"
    ],
    listCopilotSeats: ["GET /orgs/{org}/copilot/billing/seats"]
  },
  credentials: { revoke: ["POST /credentials/revoke"] },
  dependabot: {
    addSelectedRepoToOrgSecret: [
      "PUT /orgs/{org}/dependabot/secrets/{secret_name}/repositories/{repository_id}"
    ],
    createOrUpdateOrgSecret: [
      "PUT /orgs/{org}/dependabot/secrets/{secret_name}"
    ],
    createOrUpdateRepoSecret: [
      "PUT /repos/{owner}/{repo}/dependabot/secrets/{secret_name}"
    ],
    deleteOrgSecret: ["DELETE /orgs/{org}/dependabot/secrets/{secret_name}"],
    deleteRepoSecret: [
      "DELETE /repos/{owner}/{repo}/dependabot/secrets/{secret_name}"
    ],
    getAlert: ["GET /repos/{owner}/{repo}/dependabot/alerts/{alert_number}"],
    getOrgPublicKey: ["GET /orgs/{org}/dependabot/secrets/public-key"],
    getOrgSecret: ["GET /orgs/{org}/dependabot/secrets/{secret_name}"],
    getRepoPublicKey: [
      "GET /repos/{owner}/{repo}/dependabot/secrets/public-key"
    ],
    getRepoSecret: [
      "GET /repos/{owner}/{repo}/dependabot/secrets/{secret_name}"
    ],
    listAlertsForEnterprise: [
      "GET /enterprises/{enterprise}/dependabot/alerts"
    ],
    listAlertsForOrg: ["GET /orgs/{org}/dependabot/alerts"],
    listAlertsForRepo: ["GET /repos/{owner}/{repo}/dependabot/alerts"],
    listOrgSecrets: ["GET /orgs/{org}/dependabot/secrets"],
    listRepoSecrets: ["GET /repos/{owner}/{repo}/dependabot/secrets"],
    listSelectedReposForOrgSecret: [
      "GET /orgs/{org}/dependabot/secrets/{secret_name}/repositories"
    ],
    removeSelectedRepoFromOrgSecret: [
      "DELETE /orgs/{org}/dependabot/secrets/{secret_name}/repositories/{repository_id}"
    ],
    repositoryAccessForOrg: [
      "GET /organizations/{org}/dependabot/repository-access"
    ],
    setRepositoryAccessDefaultLevel: [
      "PUT /organizations/{org}/dependabot/repository-access/default-level"
    ],
    setSelectedReposForOrgSecret: [
      "PUT /orgs/{org}/dependabot/secrets/{secret_name}/repositories"
    ],
    updateAlert: [
      "PATCH /repos/{owner}/{repo}/dependabot/alerts/{alert_number}"
    ],
    updateRepositoryAccessForOrg: [
      "PATCH /organizations/{org}/dependabot/repository-access"
    ]
  },
  dependencyGraph: {
    createRepositorySnapshot: [
      "POST /repos/{owner}/{repo}/dependency-graph/snapshots"
    ],
    diffRange: [
      "GET /repos/{owner}/{repo}/dependency-graph/compare/{basehead}"
    ],
    exportSbom: ["GET /repos/{owner}/{repo}/dependency-graph/sbom"]
  },
  emojis: { get: ["GET /emojis"] },
  enterpriseTeamMemberships: {
    add: [
      "PUT /enterprises/{enterprise}/teams/{enterprise-team}/memberships/{username}"
    ],
    bulkAdd: [
      "POST /enterprises/{enterprise}/teams/{enterprise-team}/memberships/add"
    ],
    bulkRemove: [
      "POST /enterprises/{enterprise}/teams/{enterprise-team}/memberships/remove"
    ],
    get: [
      "GET /enterprises/{enterprise}/teams/{enterprise-team}/memberships/{username}"
    ],
    list: ["GET /enterprises/{enterprise}/teams/{enterprise-team}/memberships"],
    remove: [
      "DELETE /enterprises/{enterprise}/teams/{enterprise-team}/memberships/{username}"
    ]
  },
  enterpriseTeamOrganizations: {
    add: [
      "PUT /enterprises/{enterprise}/teams/{enterprise-team}/organizations/{org}"
    ],
    bulkAdd: [
      "POST /enterprises/{enterprise}/teams/{enterprise-team}/organizations/add"
    ],
    bulkRemove: [
      "POST /enterprises/{enterprise}/teams/{enterprise-team}/organizations/remove"
    ],
    delete: [
      "DELETE /enterprises/{enterprise}/teams/{enterprise-team}/organizations/{org}"
    ],
    getAssignment: [
      "GET /enterprises/{enterprise}/teams/{enterprise-team}/organizations/{org}"
    ],
    getAssignments: [
      "GET /enterprises/{enterprise}/teams/{enterprise-team}/organizations"
    ]
  },
  enterpriseTeams: {
    create: ["POST /enterprises/{enterprise}/teams"],
    delete: ["DELETE /enterprises/{enterprise}/teams/{team_slug}"],
    get: ["GET /enterprises/{enterprise}/teams/{team_slug}"],
    list: ["GET /enterprises/{enterprise}/teams"],
    update: ["PATCH /enterprises/{enterprise}/teams/{team_slug}"]
  },
  gists: {
    checkIsStarred: ["GET /gists/{gist_id}/star"],
    create: ["POST /gists"],
    createComment: ["POST /gists/{gist_id}/comments"],
    delete: ["DELETE /gists/{gist_id}"],
    deleteComment: ["DELETE /gists/{gist_id}/comments/{comment_id}"],
    fork: ["POST /gists/{gist_id}/forks"],
    get: ["GET /gists/{gist_id}"],
    getComment: ["GET /gists/{gist_id}/comments/{comment_id}"],
    getRevision: ["GET /gists/{gist_id}/{sha}"],
    list: ["GET /gists"],
    listComments: ["GET /gists/{gist_id}/comments"],
    listCommits: ["GET /gists/{gist_id}/commits"],
    listForUser: ["GET /users/{username}/gists"],
    listForks: ["GET /gists/{gist_id}/forks"],
    listPublic: ["GET /gists/public"],
    listStarred: ["GET /gists/starred"],
    star: ["PUT /gists/{gist_id}/star"],
    unstar: ["DELETE /gists/{gist_id}/star"],
    update: ["PATCH /gists/{gist_id}"],
    updateComment: ["PATCH /gists/{gist_id}/comments/{comment_id}"]
  },
  git: {
    createBlob: ["POST /repos/{owner}/{repo}/git/blobs"],
    createCommit: ["POST /repos/{owner}/{repo}/git/commits"],
    createRef: ["POST /repos/{owner}/{repo}/git/refs"],
    createTag: ["POST /repos/{owner}/{repo}/git/tags"],
    createTree: ["POST /repos/{owner}/{repo}/git/trees"],
    deleteRef: ["DELETE /repos/{owner}/{repo}/git/refs/{ref}"],
    getBlob: ["GET /repos/{owner}/{repo}/git/blobs/{file_sha}"],
    getCommit: ["GET /repos/{owner}/{repo}/git/commits/{commit_sha}"],
    getRef: ["GET /repos/{owner}/{repo}/git/ref/{ref}"],
    getTag: ["GET /repos/{owner}/{repo}/git/tags/{tag_sha}"],
    getTree: ["GET /repos/{owner}/{repo}/git/trees/{tree_sha}"],
    listMatchingRefs: ["GET /repos/{owner}/{repo}/git/matching-refs/{ref}"],
    updateRef: ["PATCH /repos/{owner}/{repo}/git/refs/{ref}"]
  },
  gitignore: {
    getAllTemplates: ["GET /gitignore/templates"],
    getTemplate: ["GET /gitignore/templates/{name}"]
  },
  hostedCompute: {
    createNetworkConfigurationForOrg: [
      "POST /orgs/{org}/settings/network-configurations"
    ],
    deleteNetworkConfigurationFromOrg: [
      "DELETE /orgs/{org}/settings/network-configurations/{network_configuration_id}"
    ],
    getNetworkConfigurationForOrg: [
      "GET /orgs/{org}/settings/network-configurations/{network_configuration_id}"
    ],
    getNetworkSettingsForOrg: [
      "GET /orgs/{org}/settings/network-settings/{network_settings_id}"
    ],
    listNetworkConfigurationsForOrg: [
      "GET /orgs/{org}/settings/network-configurations"
    ],
    updateNetworkConfigurationForOrg: [
      "PATCH /orgs/{org}/settings/network-configurations/{network_configuration_id}"
    ]
  },
  interactions: {
    getRestrictionsForAuthenticatedUser: ["GET /user/interaction-limits"],
    getRestrictionsForOrg: ["GET /orgs/{org}/interaction-limits"],
    getRestrictionsForRepo: ["GET /repos/{owner}/{repo}/interaction-limits"],
    getRestrictionsForYourPublicRepos: [
      "GET /user/interaction-limits",
      {},
      { renamed: ["interactions", "getRestrictionsForAuthenticatedUser"] }
    ],
    removeRestrictionsForAuthenticatedUser: ["DELETE /user/interaction-limits"],
    removeRestrictionsForOrg: ["DELETE /orgs/{org}/interaction-limits"],
    removeRestrictionsForRepo: [
      "DELETE /repos/{owner}/{repo}/interaction-limits"
    ],
    removeRestrictionsForYourPublicRepos: [
      "DELETE /user/interaction-limits",
      {},
      { renamed: ["interactions", "removeRestrictionsForAuthenticatedUser"] }
    ],
    setRestrictionsForAuthenticatedUser: ["PUT /user/interaction-limits"],
    setRestrictionsForOrg: ["PUT /orgs/{org}/interaction-limits"],
    setRestrictionsForRepo: ["PUT /repos/{owner}/{repo}/interaction-limits"],
    setRestrictionsForYourPublicRepos: [
      "PUT /user/interaction-limits",
      {},
      { renamed: ["interactions", "setRestrictionsForAuthenticatedUser"] }
    ]
  },
  issues: {
    addAssignees: [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees"
    ],
    addBlockedByDependency: [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by"
    ],
    addLabels: ["POST /repos/{owner}/{repo}/issues/{issue_number}/labels"],
    addSubIssue: [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/sub_issues"
    ],
    checkUserCanBeAssigned: ["GET /repos/{owner}/{repo}/assignees/{assignee}"],
    checkUserCanBeAssignedToIssue: [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/assignees/{assignee}"
    ],
    create: ["POST /repos/{owner}/{repo}/issues"],
    createComment: [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
    ],
    createLabel: ["POST /repos/{owner}/{repo}/labels"],
    createMilestone: ["POST /repos/{owner}/{repo}/milestones"],
    deleteComment: [
      "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}"
    ],
    deleteLabel: ["DELETE /repos/{owner}/{repo}/labels/{name}"],
    deleteMilestone: [
      "DELETE /repos/{owner}/{repo}/milestones/{milestone_number}"
    ],
    get: ["GET /repos/{owner}/{repo}/issues/{issue_number}"],
    getComment: ["GET /repos/{owner}/{repo}/issues/comments/{comment_id}"],
    getEvent: ["GET /repos/{owner}/{repo}/issues/events/{event_id}"],
    getLabel: ["GET /repos/{owner}/{repo}/labels/{name}"],
    getMilestone: ["GET /repos/{owner}/{repo}/milestones/{milestone_number}"],
    getParent: ["GET /repos/{owner}/{repo}/issues/{issue_number}/parent"],
    list: ["GET /issues"],
    listAssignees: ["GET /repos/{owner}/{repo}/assignees"],
    listComments: ["GET /repos/{owner}/{repo}/issues/{issue_number}/comments"],
    listCommentsForRepo: ["GET /repos/{owner}/{repo}/issues/comments"],
    listDependenciesBlockedBy: [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by"
    ],
    listDependenciesBlocking: [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocking"
    ],
    listEvents: ["GET /repos/{owner}/{repo}/issues/{issue_number}/events"],
    listEventsForRepo: ["GET /repos/{owner}/{repo}/issues/events"],
    listEventsForTimeline: [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/timeline"
    ],
    listForAuthenticatedUser: ["GET /user/issues"],
    listForOrg: ["GET /orgs/{org}/issues"],
    listForRepo: ["GET /repos/{owner}/{repo}/issues"],
    listLabelsForMilestone: [
      "GET /repos/{owner}/{repo}/milestones/{milestone_number}/labels"
    ],
    listLabelsForRepo: ["GET /repos/{owner}/{repo}/labels"],
    listLabelsOnIssue: [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/labels"
    ],
    listMilestones: ["GET /repos/{owner}/{repo}/milestones"],
    listSubIssues: [
      "GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues"
    ],
    lock: ["PUT /repos/{owner}/{repo}/issues/{issue_number}/lock"],
    removeAllLabels: [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels"
    ],
    removeAssignees: [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/assignees"
    ],
    removeDependencyBlockedBy: [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by/{issue_id}"
    ],
    removeLabel: [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"
    ],
    removeSubIssue: [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/sub_issue"
    ],
    reprioritizeSubIssue: [
      "PATCH /repos/{owner}/{repo}/issues/{issue_number}/sub_issues/priority"
    ],
    setLabels: ["PUT /repos/{owner}/{repo}/issues/{issue_number}/labels"],
    unlock: ["DELETE /repos/{owner}/{repo}/issues/{issue_number}/lock"],
    update: ["PATCH /repos/{owner}/{repo}/issues/{issue_number}"],
    updateComment: ["PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"],
    updateLabel: ["PATCH /repos/{owner}/{repo}/labels/{name}"],
    updateMilestone: [
      "PATCH /repos/{owner}/{repo}/milestones/{milestone_number}"
    ]
  },
  licenses: {
    get: ["GET /licenses/{license}"],
    getAllCommonlyUsed: ["GET /licenses"],
    getForRepo: ["GET /repos/{owner}/{repo}/license"]
  },
  markdown: {
    render: ["POST /markdown"],
    renderRaw: [
      "POST /markdown/raw",
      { headers: { "content-type": "text/plain; charset=utf-8" } }
    ]
  },
  meta: {
    get: ["GET /meta"],
    getAllVersions: ["GET /versions"],
    getOctocat: ["GET /octocat"],
    getZen: ["GET /zen"],
    root: ["GET /"]
  },
  migrations: {
    deleteArchiveForAuthenticatedUser: [
      "DELETE /user/migrations/{migration_id}/archive"
    ],
    deleteArchiveForOrg: [
      "DELETE /orgs/{org}/migrations/{migration_id}/archive"
    ],
    downloadArchiveForOrg: [
      "GET /orgs/{org}/migrations/{migration_id}/archive"
    ],
    getArchiveForAuthenticatedUser: [
      "GET /user/migrations/{migration_id}/archive"
    ],
    getStatusForAuthenticatedUser: ["GET /user/migrations/{migration_id}"],
    getStatusForOrg: ["GET /orgs/{org}/migrations/{migration_id}"],
    listForAuthenticatedUser: ["GET /user/migrations"],
    listForOrg: ["GET /orgs/{org}/migrations"],
    listReposForAuthenticatedUser: [
      "GET /user/migrations/{migration_id}/repositories"
    ],
    listReposForOrg: ["GET /orgs/{org}/migrations/{migration_id}/repositories"],
    listReposForUser: [
      "GET /user/migrations/{migration_id}/repositories",
      {},
      { renamed: ["migrations", "listReposForAuthenticatedUser"] }
    ],
    startForAuthenticatedUser: ["POST /user/migrations"],
    startForOrg: ["POST /orgs/{org}/migrations"],
    unlockRepoForAuthenticatedUser: [
      "DELETE /user/migrations/{migration_id}/repos/{repo_name}/lock"
    ],
    unlockRepoForOrg: [
      "DELETE /orgs/{org}/migrations/{migration_id}/repos/{repo_name}/lock"
    ]
  },
  oidc: {
    getOidcCustomSubTemplateForOrg: [
      "GET /orgs/{org}/actions/oidc/customization/sub"
    ],
    updateOidcCustomSubTemplateForOrg: [
      "PUT /orgs/{org}/actions/oidc/customization/sub"
    ]
  },
  orgs: {
    addSecurityManagerTeam: [
      "PUT /orgs/{org}/security-managers/teams/{team_slug}",
      {},
      {
        deprecated: "octokit.rest.orgs.addSecurityManagerTeam() is deprecated, see https://docs.github.com/rest/orgs/security-managers#add-a-security-manager-team"
      }
    ],
    assignTeamToOrgRole: [
      "PUT /orgs/{org}/organization-roles/teams/{team_slug}/{role_id}"
    ],
    assignUserToOrgRole: [
      "PUT /orgs/{org}/organization-roles/users/{username}/{role_id}"
    ],
    blockUser: ["PUT /orgs/{org}/blocks/{username}"],
    cancelInvitation: ["DELETE /orgs/{org}/invitations/{invitation_id}"],
    checkBlockedUser: ["GET /orgs/{org}/blocks/{username}"],
    checkMembershipForUser: ["GET /orgs/{org}/members/{username}"],
    checkPublicMembershipForUser: ["GET /orgs/{org}/public_members/{username}"],
    convertMemberToOutsideCollaborator: [
      "PUT /orgs/{org}/outside_collaborators/{username}"
    ],
    createArtifactStorageRecord: [
      "POST /orgs/{org}/artifacts/metadata/storage-record"
    ],
    createInvitation: ["POST /orgs/{org}/invitations"],
    createIssueType: ["POST /orgs/{org}/issue-types"],
    createWebhook: ["POST /orgs/{org}/hooks"],
    customPropertiesForOrgsCreateOrUpdateOrganizationValues: [
      "PATCH /organizations/{org}/org-properties/values"
    ],
    customPropertiesForOrgsGetOrganizationValues: [
      "GET /organizations/{org}/org-properties/values"
    ],
    customPropertiesForReposCreateOrUpdateOrganizationDefinition: [
      "PUT /orgs/{org}/properties/schema/{custom_property_name}"
    ],
    customPropertiesForReposCreateOrUpdateOrganizationDefinitions: [
      "PATCH /orgs/{org}/properties/schema"
    ],
    customPropertiesForReposCreateOrUpdateOrganizationValues: [
      "PATCH /orgs/{org}/properties/values"
    ],
    customPropertiesForReposDeleteOrganizationDefinition: [
      "DELETE /orgs/{org}/properties/schema/{custom_property_name}"
    ],
    customPropertiesForReposGetOrganizationDefinition: [
      "GET /orgs/{org}/properties/schema/{custom_property_name}"
    ],
    customPropertiesForReposGetOrganizationDefinitions: [
      "GET /orgs/{org}/properties/schema"
    ],
    customPropertiesForReposGetOrganizationValues: [
      "GET /orgs/{org}/properties/values"
    ],
    delete: ["DELETE /orgs/{org}"],
    deleteAttestationsBulk: ["POST /orgs/{org}/attestations/delete-request"],
    deleteAttestationsById: [
      "DELETE /orgs/{org}/attestations/{attestation_id}"
    ],
    deleteAttestationsBySubjectDigest: [
      "DELETE /orgs/{org}/attestations/digest/{subject_digest}"
    ],
    deleteIssueType: ["DELETE /orgs/{org}/issue-types/{issue_type_id}"],
    deleteWebhook: ["DELETE /orgs/{org}/hooks/{hook_id}"],
    disableSelectedRepositoryImmutableReleasesOrganization: [
      "DELETE /orgs/{org}/settings/immutable-releases/repositories/{repository_id}"
    ],
    enableSelectedRepositoryImmutableReleasesOrganization: [
      "PUT /orgs/{org}/settings/immutable-releases/repositories/{repository_id}"
    ],
    get: ["GET /orgs/{org}"],
    getImmutableReleasesSettings: [
      "GET /orgs/{org}/settings/immutable-releases"
    ],
    getImmutableReleasesSettingsRepositories: [
      "GET /orgs/{org}/settings/immutable-releases/repositories"
    ],
    getMembershipForAuthenticatedUser: ["GET /user/memberships/orgs/{org}"],
    getMembershipForUser: ["GET /orgs/{org}/memberships/{username}"],
    getOrgRole: ["GET /orgs/{org}/organization-roles/{role_id}"],
    getOrgRulesetHistory: ["GET /orgs/{org}/rulesets/{ruleset_id}/history"],
    getOrgRulesetVersion: [
      "GET /orgs/{org}/rulesets/{ruleset_id}/history/{version_id}"
    ],
    getWebhook: ["GET /orgs/{org}/hooks/{hook_id}"],
    getWebhookConfigForOrg: ["GET /orgs/{org}/hooks/{hook_id}/config"],
    getWebhookDelivery: [
      "GET /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}"
    ],
    list: ["GET /organizations"],
    listAppInstallations: ["GET /orgs/{org}/installations"],
    listArtifactStorageRecords: [
      "GET /orgs/{org}/artifacts/{subject_digest}/metadata/storage-records"
    ],
    listAttestationRepositories: ["GET /orgs/{org}/attestations/repositories"],
    listAttestations: ["GET /orgs/{org}/attestations/{subject_digest}"],
    listAttestationsBulk: [
      "POST /orgs/{org}/attestations/bulk-list{?per_page,before,after}"
    ],
    listBlockedUsers: ["GET /orgs/{org}/blocks"],
    listFailedInvitations: ["GET /orgs/{org}/failed_invitations"],
    listForAuthenticatedUser: ["GET /user/orgs"],
    listForUser: ["GET /users/{username}/orgs"],
    listInvitationTeams: ["GET /orgs/{org}/invitations/{invitation_id}/teams"],
    listIssueTypes: ["GET /orgs/{org}/issue-types"],
    listMembers: ["GET /orgs/{org}/members"],
    listMembershipsForAuthenticatedUser: ["GET /user/memberships/orgs"],
    listOrgRoleTeams: ["GET /orgs/{org}/organization-roles/{role_id}/teams"],
    listOrgRoleUsers: ["GET /orgs/{org}/organization-roles/{role_id}/users"],
    listOrgRoles: ["GET /orgs/{org}/organization-roles"],
    listOrganizationFineGrainedPermissions: [
      "GET /orgs/{org}/organization-fine-grained-permissions"
    ],
    listOutsideCollaborators: ["GET /orgs/{org}/outside_collaborators"],
    listPatGrantRepositories: [
      "GET /orgs/{org}/personal-access-tokens/{pat_id}/repositories"
    ],
    listPatGrantRequestRepositories: [
      "GET /orgs/{org}/personal-access-token-requests/{pat_request_id}/repositories"
    ],
    listPatGrantRequests: ["GET /orgs/{org}/personal-access-token-requests"],
    listPatGrants: ["GET /orgs/{org}/personal-access-tokens"],
    listPendingInvitations: ["GET /orgs/{org}/invitations"],
    listPublicMembers: ["GET /orgs/{org}/public_members"],
    listSecurityManagerTeams: [
      "GET /orgs/{org}/security-managers",
      {},
      {
        deprecated: "octokit.rest.orgs.listSecurityManagerTeams() is deprecated, see https://docs.github.com/rest/orgs/security-managers#list-security-manager-teams"
      }
    ],
    listWebhookDeliveries: ["GET /orgs/{org}/hooks/{hook_id}/deliveries"],
    listWebhooks: ["GET /orgs/{org}/hooks"],
    pingWebhook: ["POST /orgs/{org}/hooks/{hook_id}/pings"],
    redeliverWebhookDelivery: [
      "POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts"
    ],
    removeMember: ["DELETE /orgs/{org}/members/{username}"],
    removeMembershipForUser: ["DELETE /orgs/{org}/memberships/{username}"],
    removeOutsideCollaborator: [
      "DELETE /orgs/{org}/outside_collaborators/{username}"
    ],
    removePublicMembershipForAuthenticatedUser: [
      "DELETE /orgs/{org}/public_members/{username}"
    ],
    removeSecurityManagerTeam: [
      "DELETE /orgs/{org}/security-managers/teams/{team_slug}",
      {},
      {
        deprecated: "octokit.rest.orgs.removeSecurityManagerTeam() is deprecated, see https://docs.github.com/rest/orgs/security-managers#remove-a-security-manager-team"
      }
    ],
    reviewPatGrantRequest: [
      "POST /orgs/{org}/personal-access-token-requests/{pat_request_id}"
    ],
    reviewPatGrantRequestsInBulk: [
      "POST /orgs/{org}/personal-access-token-requests"
    ],
    revokeAllOrgRolesTeam: [
      "DELETE /orgs/{org}/organization-roles/teams/{team_slug}"
    ],
    revokeAllOrgRolesUser: [
      "DELETE /orgs/{org}/organization-roles/users/{username}"
    ],
    revokeOrgRoleTeam: [
      "DELETE /orgs/{org}/organization-roles/teams/{team_slug}/{role_id}"
    ],
    revokeOrgRoleUser: [
      "DELETE /orgs/{org}/organization-roles/users/{username}/{role_id}"
    ],
    setImmutableReleasesSettings: [
      "PUT /orgs/{org}/settings/immutable-releases"
    ],
    setImmutableReleasesSettingsRepositories: [
      "PUT /orgs/{org}/settings/immutable-releases/repositories"
    ],
    setMembershipForUser: ["PUT /orgs/{org}/memberships/{username}"],
    setPublicMembershipForAuthenticatedUser: [
      "PUT /orgs/{org}/public_members/{username}"
    ],
    unblockUser: ["DELETE /orgs/{org}/blocks/{username}"],
    update: ["PATCH /orgs/{org}"],
    updateIssueType: ["PUT /orgs/{org}/issue-types/{issue_type_id}"],
    updateMembershipForAuthenticatedUser: [
      "PATCH /user/memberships/orgs/{org}"
    ],
    updatePatAccess: ["POST /orgs/{org}/personal-access-tokens/{pat_id}"],
    updatePatAccesses: ["POST /orgs/{org}/personal-access-tokens"],
    updateWebhook: ["PATCH /orgs/{org}/hooks/{hook_id}"],
    updateWebhookConfigForOrg: ["PATCH /orgs/{org}/hooks/{hook_id}/config"]
  },
  packages: {
    deletePackageForAuthenticatedUser: [
      "DELETE /user/packages/{package_type}/{package_name}"
    ],
    deletePackageForOrg: [
      "DELETE /orgs/{org}/packages/{package_type}/{package_name}"
    ],
    deletePackageForUser: [
      "DELETE /users/{username}/packages/{package_type}/{package_name}"
    ],
    deletePackageVersionForAuthenticatedUser: [
      "DELETE /user/packages/{package_type}/{package_name}/versions/{package_version_id}"
    ],
    deletePackageVersionForOrg: [
      "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}"
    ],
    deletePackageVersionForUser: [
      "DELETE /users/{username}/packages/{package_type}/{package_name}/versions/{package_version_id}"
    ],
    getAllPackageVersionsForAPackageOwnedByAnOrg: [
      "GET /orgs/{org}/packages/{package_type}/{package_name}/versions",
      {},
      { renamed: ["packages", "getAllPackageVersionsForPackageOwnedByOrg"] }
    ],
    getAllPackageVersionsForAPackageOwnedByTheAuthenticatedUser: [
      "GET /user/packages/{package_type}/{package_name}/versions",
      {},
      {
        renamed: [
          "packages",
          "getAllPackageVersionsForPackageOwnedByAuthenticatedUser"
        ]
      }
    ],
    getAllPackageVersionsForPackageOwnedByAuthenticatedUser: [
      "GET /user/packages/{package_type}/{package_name}/versions"
    ],
    getAllPackageVersionsForPackageOwnedByOrg: [
      "GET /orgs/{org}/packages/{package_type}/{package_name}/versions"
    ],
    getAllPackageVersionsForPackageOwnedByUser: [
      "GET /users/{username}/packages/{package_type}/{package_name}/versions"
    ],
    getPackageForAuthenticatedUser: [
      "GET /user/packages/{package_type}/{package_name}"
    ],
    getPackageForOrganization: [
      "GET /orgs/{org}/packages/{package_type}/{package_name}"
    ],
    getPackageForUser: [
      "GET /users/{username}/packages/{package_type}/{package_name}"
    ],
    getPackageVersionForAuthenticatedUser: [
      "GET /user/packages/{package_type}/{package_name}/versions/{package_version_id}"
    ],
    getPackageVersionForOrganization: [
      "GET /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}"
    ],
    getPackageVersionForUser: [
      "GET /users/{username}/packages/{package_type}/{package_name}/versions/{package_version_id}"
    ],
    listDockerMigrationConflictingPackagesForAuthenticatedUser: [
      "GET /user/docker/conflicts"
    ],
    listDockerMigrationConflictingPackagesForOrganization: [
      "GET /orgs/{org}/docker/conflicts"
    ],
    listDockerMigrationConflictingPackagesForUser: [
      "GET /users/{username}/docker/conflicts"
    ],
    listPackagesForAuthenticatedUser: ["GET /user/packages"],
    listPackagesForOrganization: ["GET /orgs/{org}/packages"],
    listPackagesForUser: ["GET /users/{username}/packages"],
    restorePackageForAuthenticatedUser: [
      "POST /user/packages/{package_type}/{package_name}/restore{?token}"
    ],
    restorePackageForOrg: [
      "POST /orgs/{org}/packages/{package_type}/{package_name}/restore{?token}"
    ],
    restorePackageForUser: [
      "POST /users/{username}/packages/{package_type}/{package_name}/restore{?token}"
    ],
    restorePackageVersionForAuthenticatedUser: [
      "POST /user/packages/{package_type}/{package_name}/versions/{package_version_id}/restore"
    ],
    restorePackageVersionForOrg: [
      "POST /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}/restore"
    ],
    restorePackageVersionForUser: [
      "POST /users/{username}/packages/{package_type}/{package_name}/versions/{package_version_id}/restore"
    ]
  },
  privateRegistries: {
    createOrgPrivateRegistry: ["POST /orgs/{org}/private-registries"],
    deleteOrgPrivateRegistry: [
      "DELETE /orgs/{org}/private-registries/{secret_name}"
    ],
    getOrgPrivateRegistry: ["GET /orgs/{org}/private-registries/{secret_name}"],
    getOrgPublicKey: ["GET /orgs/{org}/private-registries/public-key"],
    listOrgPrivateRegistries: ["GET /orgs/{org}/private-registries"],
    updateOrgPrivateRegistry: [
      "PATCH /orgs/{org}/private-registries/{secret_name}"
    ]
  },
  projects: {
    addItemForOrg: ["POST /orgs/{org}/projectsV2/{project_number}/items"],
    addItemForUser: [
      "POST /users/{username}/projectsV2/{project_number}/items"
    ],
    deleteItemForOrg: [
      "DELETE /orgs/{org}/projectsV2/{project_number}/items/{item_id}"
    ],
    deleteItemForUser: [
      "DELETE /users/{username}/projectsV2/{project_number}/items/{item_id}"
    ],
    getFieldForOrg: [
      "GET /orgs/{org}/projectsV2/{project_number}/fields/{field_id}"
    ],
    getFieldForUser: [
      "GET /users/{username}/projectsV2/{project_number}/fields/{field_id}"
    ],
    getForOrg: ["GET /orgs/{org}/projectsV2/{project_number}"],
    getForUser: ["GET /users/{username}/projectsV2/{project_number}"],
    getOrgItem: ["GET /orgs/{org}/projectsV2/{project_number}/items/{item_id}"],
    getUserItem: [
      "GET /users/{username}/projectsV2/{project_number}/items/{item_id}"
    ],
    listFieldsForOrg: ["GET /orgs/{org}/projectsV2/{project_number}/fields"],
    listFieldsForUser: [
      "GET /users/{username}/projectsV2/{project_number}/fields"
    ],
    listForOrg: ["GET /orgs/{org}/projectsV2"],
    listForUser: ["GET /users/{username}/projectsV2"],
    listItemsForOrg: ["GET /orgs/{org}/projectsV2/{project_number}/items"],
    listItemsForUser: [
      "GET /users/{username}/projectsV2/{project_number}/items"
    ],
    updateItemForOrg: [
      "PATCH /orgs/{org}/projectsV2/{project_number}/items/{item_id}"
    ],
    updateItemForUser: [
      "PATCH /users/{username}/projectsV2/{project_number}/items/{item_id}"
    ]
  },
  pulls: {
    checkIfMerged: ["GET /repos/{owner}/{repo}/pulls/{pull_number}/merge"],
    create: ["POST /repos/{owner}/{repo}/pulls"],
    createReplyForReviewComment: [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies"
    ],
    createReview: ["POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews"],
    createReviewComment: [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/comments"
    ],
    deletePendingReview: [
      "DELETE /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}"
    ],
    deleteReviewComment: [
      "DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}"
    ],
    dismissReview: [
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals"
    ],
    get: ["GET /repos/{owner}/{repo}/pulls/{pull_number}"],
    getReview: [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}"
    ],
    getReviewComment: ["GET /repos/{owner}/{repo}/pulls/comments/{comment_id}"],
    list: ["GET /repos/{owner}/{repo}/pulls"],
    listCommentsForReview: [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments"
    ],
    listCommits: ["GET /repos/{owner}/{repo}/pulls/{pull_number}/commits"],
    listFiles: ["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"],
    listRequestedReviewers: [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"
    ],
    listReviewComments: [
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments"
    ],
    listReviewCommentsForRepo: ["GET /repos/{owner}/{repo}/pulls/comments"],
    listReviews: ["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"],
    merge: ["PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"],
    removeRequestedReviewers: [
      "DELETE /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"
    ],
    requestReviewers: [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"
    ],
    submitReview: [
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/events"
    ],
    update: ["PATCH /repos/{owner}/{repo}/pulls/{pull_number}"],
    updateBranch: [
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch"
    ],
    updateReview: [
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}"
    ],
    updateReviewComment: [
      "PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}"
    ]
  },
  rateLimit: { get: ["GET /rate_limit"] },
  reactions: {
    createForCommitComment: [
      "POST /repos/{owner}/{repo}/comments/{comment_id}/reactions"
    ],
    createForIssue: [
      "POST /repos/{owner}/{repo}/issues/{issue_number}/reactions"
    ],
    createForIssueComment: [
      "POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
    ],
    createForPullRequestReviewComment: [
      "POST /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions"
    ],
    createForRelease: [
      "POST /repos/{owner}/{repo}/releases/{release_id}/reactions"
    ],
    createForTeamDiscussionCommentInOrg: [
      "POST /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}/reactions"
    ],
    createForTeamDiscussionInOrg: [
      "POST /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/reactions"
    ],
    deleteForCommitComment: [
      "DELETE /repos/{owner}/{repo}/comments/{comment_id}/reactions/{reaction_id}"
    ],
    deleteForIssue: [
      "DELETE /repos/{owner}/{repo}/issues/{issue_number}/reactions/{reaction_id}"
    ],
    deleteForIssueComment: [
      "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}"
    ],
    deleteForPullRequestComment: [
      "DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions/{reaction_id}"
    ],
    deleteForRelease: [
      "DELETE /repos/{owner}/{repo}/releases/{release_id}/reactions/{reaction_id}"
    ],
    deleteForTeamDiscussion: [
      "DELETE /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/reactions/{reaction_id}"
    ],
    deleteForTeamDiscussionComment: [
      "DELETE /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}/reactions/{reaction_id}"
    ],
    listForCommitComment: [
      "GET /repos/{owner}/{repo}/comments/{comment_id}/reactions"
    ],
    listForIssue: ["GET /repos/{owner}/{repo}/issues/{issue_number}/reactions"],
    listForIssueComment: [
      "GET /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"
    ],
    listForPullRequestReviewComment: [
      "GET /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions"
    ],
    listForRelease: [
      "GET /repos/{owner}/{repo}/releases/{release_id}/reactions"
    ],
    listForTeamDiscussionCommentInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}/reactions"
    ],
    listForTeamDiscussionInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/reactions"
    ]
  },
  repos: {
    acceptInvitation: [
      "PATCH /user/repository_invitations/{invitation_id}",
      {},
      { renamed: ["repos", "acceptInvitationForAuthenticatedUser"] }
    ],
    acceptInvitationForAuthenticatedUser: [
      "PATCH /user/repository_invitations/{invitation_id}"
    ],
    addAppAccessRestrictions: [
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/apps",
      {},
      { mapToData: "apps" }
    ],
    addCollaborator: ["PUT /repos/{owner}/{repo}/collaborators/{username}"],
    addStatusCheckContexts: [
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks/contexts",
      {},
      { mapToData: "contexts" }
    ],
    addTeamAccessRestrictions: [
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/teams",
      {},
      { mapToData: "teams" }
    ],
    addUserAccessRestrictions: [
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/users",
      {},
      { mapToData: "users" }
    ],
    cancelPagesDeployment: [
      "POST /repos/{owner}/{repo}/pages/deployments/{pages_deployment_id}/cancel"
    ],
    checkAutomatedSecurityFixes: [
      "GET /repos/{owner}/{repo}/automated-security-fixes"
    ],
    checkCollaborator: ["GET /repos/{owner}/{repo}/collaborators/{username}"],
    checkImmutableReleases: ["GET /repos/{owner}/{repo}/immutable-releases"],
    checkPrivateVulnerabilityReporting: [
      "GET /repos/{owner}/{repo}/private-vulnerability-reporting"
    ],
    checkVulnerabilityAlerts: [
      "GET /repos/{owner}/{repo}/vulnerability-alerts"
    ],
    codeownersErrors: ["GET /repos/{owner}/{repo}/codeowners/errors"],
    compareCommits: ["GET /repos/{owner}/{repo}/compare/{base}...{head}"],
    compareCommitsWithBasehead: [
      "GET /repos/{owner}/{repo}/compare/{basehead}"
    ],
    createAttestation: ["POST /repos/{owner}/{repo}/attestations"],
    createAutolink: ["POST /repos/{owner}/{repo}/autolinks"],
    createCommitComment: [
      "POST /repos/{owner}/{repo}/commits/{commit_sha}/comments"
    ],
    createCommitSignatureProtection: [
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures"
    ],
    createCommitStatus: ["POST /repos/{owner}/{repo}/statuses/{sha}"],
    createDeployKey: ["POST /repos/{owner}/{repo}/keys"],
    createDeployment: ["POST /repos/{owner}/{repo}/deployments"],
    createDeploymentBranchPolicy: [
      "POST /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies"
    ],
    createDeploymentProtectionRule: [
      "POST /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules"
    ],
    createDeploymentStatus: [
      "POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
    ],
    createDispatchEvent: ["POST /repos/{owner}/{repo}/dispatches"],
    createForAuthenticatedUser: ["POST /user/repos"],
    createFork: ["POST /repos/{owner}/{repo}/forks"],
    createInOrg: ["POST /orgs/{org}/repos"],
    createOrUpdateEnvironment: [
      "PUT /repos/{owner}/{repo}/environments/{environment_name}"
    ],
    createOrUpdateFileContents: ["PUT /repos/{owner}/{repo}/contents/{path}"],
    createOrgRuleset: ["POST /orgs/{org}/rulesets"],
    createPagesDeployment: ["POST /repos/{owner}/{repo}/pages/deployments"],
    createPagesSite: ["POST /repos/{owner}/{repo}/pages"],
    createRelease: ["POST /repos/{owner}/{repo}/releases"],
    createRepoRuleset: ["POST /repos/{owner}/{repo}/rulesets"],
    createUsingTemplate: [
      "POST /repos/{template_owner}/{template_repo}/generate"
    ],
    createWebhook: ["POST /repos/{owner}/{repo}/hooks"],
    customPropertiesForReposCreateOrUpdateRepositoryValues: [
      "PATCH /repos/{owner}/{repo}/properties/values"
    ],
    customPropertiesForReposGetRepositoryValues: [
      "GET /repos/{owner}/{repo}/properties/values"
    ],
    declineInvitation: [
      "DELETE /user/repository_invitations/{invitation_id}",
      {},
      { renamed: ["repos", "declineInvitationForAuthenticatedUser"] }
    ],
    declineInvitationForAuthenticatedUser: [
      "DELETE /user/repository_invitations/{invitation_id}"
    ],
    delete: ["DELETE /repos/{owner}/{repo}"],
    deleteAccessRestrictions: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/restrictions"
    ],
    deleteAdminBranchProtection: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/enforce_admins"
    ],
    deleteAnEnvironment: [
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}"
    ],
    deleteAutolink: ["DELETE /repos/{owner}/{repo}/autolinks/{autolink_id}"],
    deleteBranchProtection: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection"
    ],
    deleteCommitComment: ["DELETE /repos/{owner}/{repo}/comments/{comment_id}"],
    deleteCommitSignatureProtection: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures"
    ],
    deleteDeployKey: ["DELETE /repos/{owner}/{repo}/keys/{key_id}"],
    deleteDeployment: [
      "DELETE /repos/{owner}/{repo}/deployments/{deployment_id}"
    ],
    deleteDeploymentBranchPolicy: [
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies/{branch_policy_id}"
    ],
    deleteFile: ["DELETE /repos/{owner}/{repo}/contents/{path}"],
    deleteInvitation: [
      "DELETE /repos/{owner}/{repo}/invitations/{invitation_id}"
    ],
    deleteOrgRuleset: ["DELETE /orgs/{org}/rulesets/{ruleset_id}"],
    deletePagesSite: ["DELETE /repos/{owner}/{repo}/pages"],
    deletePullRequestReviewProtection: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/required_pull_request_reviews"
    ],
    deleteRelease: ["DELETE /repos/{owner}/{repo}/releases/{release_id}"],
    deleteReleaseAsset: [
      "DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}"
    ],
    deleteRepoRuleset: ["DELETE /repos/{owner}/{repo}/rulesets/{ruleset_id}"],
    deleteWebhook: ["DELETE /repos/{owner}/{repo}/hooks/{hook_id}"],
    disableAutomatedSecurityFixes: [
      "DELETE /repos/{owner}/{repo}/automated-security-fixes"
    ],
    disableDeploymentProtectionRule: [
      "DELETE /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules/{protection_rule_id}"
    ],
    disableImmutableReleases: [
      "DELETE /repos/{owner}/{repo}/immutable-releases"
    ],
    disablePrivateVulnerabilityReporting: [
      "DELETE /repos/{owner}/{repo}/private-vulnerability-reporting"
    ],
    disableVulnerabilityAlerts: [
      "DELETE /repos/{owner}/{repo}/vulnerability-alerts"
    ],
    downloadArchive: [
      "GET /repos/{owner}/{repo}/zipball/{ref}",
      {},
      { renamed: ["repos", "downloadZipballArchive"] }
    ],
    downloadTarballArchive: ["GET /repos/{owner}/{repo}/tarball/{ref}"],
    downloadZipballArchive: ["GET /repos/{owner}/{repo}/zipball/{ref}"],
    enableAutomatedSecurityFixes: [
      "PUT /repos/{owner}/{repo}/automated-security-fixes"
    ],
    enableImmutableReleases: ["PUT /repos/{owner}/{repo}/immutable-releases"],
    enablePrivateVulnerabilityReporting: [
      "PUT /repos/{owner}/{repo}/private-vulnerability-reporting"
    ],
    enableVulnerabilityAlerts: [
      "PUT /repos/{owner}/{repo}/vulnerability-alerts"
    ],
    generateReleaseNotes: [
      "POST /repos/{owner}/{repo}/releases/generate-notes"
    ],
    get: ["GET /repos/{owner}/{repo}"],
    getAccessRestrictions: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions"
    ],
    getAdminBranchProtection: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/enforce_admins"
    ],
    getAllDeploymentProtectionRules: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules"
    ],
    getAllEnvironments: ["GET /repos/{owner}/{repo}/environments"],
    getAllStatusCheckContexts: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks/contexts"
    ],
    getAllTopics: ["GET /repos/{owner}/{repo}/topics"],
    getAppsWithAccessToProtectedBranch: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/apps"
    ],
    getAutolink: ["GET /repos/{owner}/{repo}/autolinks/{autolink_id}"],
    getBranch: ["GET /repos/{owner}/{repo}/branches/{branch}"],
    getBranchProtection: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection"
    ],
    getBranchRules: ["GET /repos/{owner}/{repo}/rules/branches/{branch}"],
    getClones: ["GET /repos/{owner}/{repo}/traffic/clones"],
    getCodeFrequencyStats: ["GET /repos/{owner}/{repo}/stats/code_frequency"],
    getCollaboratorPermissionLevel: [
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission"
    ],
    getCombinedStatusForRef: ["GET /repos/{owner}/{repo}/commits/{ref}/status"],
    getCommit: ["GET /repos/{owner}/{repo}/commits/{ref}"],
    getCommitActivityStats: ["GET /repos/{owner}/{repo}/stats/commit_activity"],
    getCommitComment: ["GET /repos/{owner}/{repo}/comments/{comment_id}"],
    getCommitSignatureProtection: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_signatures"
    ],
    getCommunityProfileMetrics: ["GET /repos/{owner}/{repo}/community/profile"],
    getContent: ["GET /repos/{owner}/{repo}/contents/{path}"],
    getContributorsStats: ["GET /repos/{owner}/{repo}/stats/contributors"],
    getCustomDeploymentProtectionRule: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules/{protection_rule_id}"
    ],
    getDeployKey: ["GET /repos/{owner}/{repo}/keys/{key_id}"],
    getDeployment: ["GET /repos/{owner}/{repo}/deployments/{deployment_id}"],
    getDeploymentBranchPolicy: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies/{branch_policy_id}"
    ],
    getDeploymentStatus: [
      "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses/{status_id}"
    ],
    getEnvironment: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}"
    ],
    getLatestPagesBuild: ["GET /repos/{owner}/{repo}/pages/builds/latest"],
    getLatestRelease: ["GET /repos/{owner}/{repo}/releases/latest"],
    getOrgRuleSuite: ["GET /orgs/{org}/rulesets/rule-suites/{rule_suite_id}"],
    getOrgRuleSuites: ["GET /orgs/{org}/rulesets/rule-suites"],
    getOrgRuleset: ["GET /orgs/{org}/rulesets/{ruleset_id}"],
    getOrgRulesets: ["GET /orgs/{org}/rulesets"],
    getPages: ["GET /repos/{owner}/{repo}/pages"],
    getPagesBuild: ["GET /repos/{owner}/{repo}/pages/builds/{build_id}"],
    getPagesDeployment: [
      "GET /repos/{owner}/{repo}/pages/deployments/{pages_deployment_id}"
    ],
    getPagesHealthCheck: ["GET /repos/{owner}/{repo}/pages/health"],
    getParticipationStats: ["GET /repos/{owner}/{repo}/stats/participation"],
    getPullRequestReviewProtection: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_pull_request_reviews"
    ],
    getPunchCardStats: ["GET /repos/{owner}/{repo}/stats/punch_card"],
    getReadme: ["GET /repos/{owner}/{repo}/readme"],
    getReadmeInDirectory: ["GET /repos/{owner}/{repo}/readme/{dir}"],
    getRelease: ["GET /repos/{owner}/{repo}/releases/{release_id}"],
    getReleaseAsset: ["GET /repos/{owner}/{repo}/releases/assets/{asset_id}"],
    getReleaseByTag: ["GET /repos/{owner}/{repo}/releases/tags/{tag}"],
    getRepoRuleSuite: [
      "GET /repos/{owner}/{repo}/rulesets/rule-suites/{rule_suite_id}"
    ],
    getRepoRuleSuites: ["GET /repos/{owner}/{repo}/rulesets/rule-suites"],
    getRepoRuleset: ["GET /repos/{owner}/{repo}/rulesets/{ruleset_id}"],
    getRepoRulesetHistory: [
      "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}/history"
    ],
    getRepoRulesetVersion: [
      "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}/history/{version_id}"
    ],
    getRepoRulesets: ["GET /repos/{owner}/{repo}/rulesets"],
    getStatusChecksProtection: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks"
    ],
    getTeamsWithAccessToProtectedBranch: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/teams"
    ],
    getTopPaths: ["GET /repos/{owner}/{repo}/traffic/popular/paths"],
    getTopReferrers: ["GET /repos/{owner}/{repo}/traffic/popular/referrers"],
    getUsersWithAccessToProtectedBranch: [
      "GET /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/users"
    ],
    getViews: ["GET /repos/{owner}/{repo}/traffic/views"],
    getWebhook: ["GET /repos/{owner}/{repo}/hooks/{hook_id}"],
    getWebhookConfigForRepo: [
      "GET /repos/{owner}/{repo}/hooks/{hook_id}/config"
    ],
    getWebhookDelivery: [
      "GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}"
    ],
    listActivities: ["GET /repos/{owner}/{repo}/activity"],
    listAttestations: [
      "GET /repos/{owner}/{repo}/attestations/{subject_digest}"
    ],
    listAutolinks: ["GET /repos/{owner}/{repo}/autolinks"],
    listBranches: ["GET /repos/{owner}/{repo}/branches"],
    listBranchesForHeadCommit: [
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/branches-where-head"
    ],
    listCollaborators: ["GET /repos/{owner}/{repo}/collaborators"],
    listCommentsForCommit: [
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/comments"
    ],
    listCommitCommentsForRepo: ["GET /repos/{owner}/{repo}/comments"],
    listCommitStatusesForRef: [
      "GET /repos/{owner}/{repo}/commits/{ref}/statuses"
    ],
    listCommits: ["GET /repos/{owner}/{repo}/commits"],
    listContributors: ["GET /repos/{owner}/{repo}/contributors"],
    listCustomDeploymentRuleIntegrations: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules/apps"
    ],
    listDeployKeys: ["GET /repos/{owner}/{repo}/keys"],
    listDeploymentBranchPolicies: [
      "GET /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies"
    ],
    listDeploymentStatuses: [
      "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses"
    ],
    listDeployments: ["GET /repos/{owner}/{repo}/deployments"],
    listForAuthenticatedUser: ["GET /user/repos"],
    listForOrg: ["GET /orgs/{org}/repos"],
    listForUser: ["GET /users/{username}/repos"],
    listForks: ["GET /repos/{owner}/{repo}/forks"],
    listInvitations: ["GET /repos/{owner}/{repo}/invitations"],
    listInvitationsForAuthenticatedUser: ["GET /user/repository_invitations"],
    listLanguages: ["GET /repos/{owner}/{repo}/languages"],
    listPagesBuilds: ["GET /repos/{owner}/{repo}/pages/builds"],
    listPublic: ["GET /repositories"],
    listPullRequestsAssociatedWithCommit: [
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
    ],
    listReleaseAssets: [
      "GET /repos/{owner}/{repo}/releases/{release_id}/assets"
    ],
    listReleases: ["GET /repos/{owner}/{repo}/releases"],
    listTags: ["GET /repos/{owner}/{repo}/tags"],
    listTeams: ["GET /repos/{owner}/{repo}/teams"],
    listWebhookDeliveries: [
      "GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries"
    ],
    listWebhooks: ["GET /repos/{owner}/{repo}/hooks"],
    merge: ["POST /repos/{owner}/{repo}/merges"],
    mergeUpstream: ["POST /repos/{owner}/{repo}/merge-upstream"],
    pingWebhook: ["POST /repos/{owner}/{repo}/hooks/{hook_id}/pings"],
    redeliverWebhookDelivery: [
      "POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts"
    ],
    removeAppAccessRestrictions: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/apps",
      {},
      { mapToData: "apps" }
    ],
    removeCollaborator: [
      "DELETE /repos/{owner}/{repo}/collaborators/{username}"
    ],
    removeStatusCheckContexts: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks/contexts",
      {},
      { mapToData: "contexts" }
    ],
    removeStatusCheckProtection: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks"
    ],
    removeTeamAccessRestrictions: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/teams",
      {},
      { mapToData: "teams" }
    ],
    removeUserAccessRestrictions: [
      "DELETE /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/users",
      {},
      { mapToData: "users" }
    ],
    renameBranch: ["POST /repos/{owner}/{repo}/branches/{branch}/rename"],
    replaceAllTopics: ["PUT /repos/{owner}/{repo}/topics"],
    requestPagesBuild: ["POST /repos/{owner}/{repo}/pages/builds"],
    setAdminBranchProtection: [
      "POST /repos/{owner}/{repo}/branches/{branch}/protection/enforce_admins"
    ],
    setAppAccessRestrictions: [
      "PUT /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/apps",
      {},
      { mapToData: "apps" }
    ],
    setStatusCheckContexts: [
      "PUT /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks/contexts",
      {},
      { mapToData: "contexts" }
    ],
    setTeamAccessRestrictions: [
      "PUT /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/teams",
      {},
      { mapToData: "teams" }
    ],
    setUserAccessRestrictions: [
      "PUT /repos/{owner}/{repo}/branches/{branch}/protection/restrictions/users",
      {},
      { mapToData: "users" }
    ],
    testPushWebhook: ["POST /repos/{owner}/{repo}/hooks/{hook_id}/tests"],
    transfer: ["POST /repos/{owner}/{repo}/transfer"],
    update: ["PATCH /repos/{owner}/{repo}"],
    updateBranchProtection: [
      "PUT /repos/{owner}/{repo}/branches/{branch}/protection"
    ],
    updateCommitComment: ["PATCH /repos/{owner}/{repo}/comments/{comment_id}"],
    updateDeploymentBranchPolicy: [
      "PUT /repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies/{branch_policy_id}"
    ],
    updateInformationAboutPagesSite: ["PUT /repos/{owner}/{repo}/pages"],
    updateInvitation: [
      "PATCH /repos/{owner}/{repo}/invitations/{invitation_id}"
    ],
    updateOrgRuleset: ["PUT /orgs/{org}/rulesets/{ruleset_id}"],
    updatePullRequestReviewProtection: [
      "PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_pull_request_reviews"
    ],
    updateRelease: ["PATCH /repos/{owner}/{repo}/releases/{release_id}"],
    updateReleaseAsset: [
      "PATCH /repos/{owner}/{repo}/releases/assets/{asset_id}"
    ],
    updateRepoRuleset: ["PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}"],
    updateStatusCheckPotection: [
      "PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks",
      {},
      { renamed: ["repos", "updateStatusCheckProtection"] }
    ],
    updateStatusCheckProtection: [
      "PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks"
    ],
    updateWebhook: ["PATCH /repos/{owner}/{repo}/hooks/{hook_id}"],
    updateWebhookConfigForRepo: [
      "PATCH /repos/{owner}/{repo}/hooks/{hook_id}/config"
    ],
    uploadReleaseAsset: [
      "POST /repos/{owner}/{repo}/releases/{release_id}/assets{?name,label}",
      { baseUrl: "https://uploads.github.com" }
    ]
  },
  search: {
    code: ["GET /search/code"],
    commits: ["GET /search/commits"],
    issuesAndPullRequests: ["GET /search/issues"],
    labels: ["GET /search/labels"],
    repos: ["GET /search/repositories"],
    topics: ["GET /search/topics"],
    users: ["GET /search/users"]
  },
  secretScanning: {
    createPushProtectionBypass: [
      "POST /repos/{owner}/{repo}/secret-scanning/push-protection-bypasses"
    ],
    getAlert: [
      "GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}"
    ],
    getScanHistory: ["GET /repos/{owner}/{repo}/secret-scanning/scan-history"],
    listAlertsForOrg: ["GET /orgs/{org}/secret-scanning/alerts"],
    listAlertsForRepo: ["GET /repos/{owner}/{repo}/secret-scanning/alerts"],
    listLocationsForAlert: [
      "GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}/locations"
    ],
    listOrgPatternConfigs: [
      "GET /orgs/{org}/secret-scanning/pattern-configurations"
    ],
    updateAlert: [
      "PATCH /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}"
    ],
    updateOrgPatternConfigs: [
      "PATCH /orgs/{org}/secret-scanning/pattern-configurations"
    ]
  },
  securityAdvisories: {
    createFork: [
      "POST /repos/{owner}/{repo}/security-advisories/{ghsa_id}/forks"
    ],
    createPrivateVulnerabilityReport: [
      "POST /repos/{owner}/{repo}/security-advisories/reports"
    ],
    createRepositoryAdvisory: [
      "POST /repos/{owner}/{repo}/security-advisories"
    ],
    createRepositoryAdvisoryCveRequest: [
      "POST /repos/{owner}/{repo}/security-advisories/{ghsa_id}/cve"
    ],
    getGlobalAdvisory: ["GET /advisories/{ghsa_id}"],
    getRepositoryAdvisory: [
      "GET /repos/{owner}/{repo}/security-advisories/{ghsa_id}"
    ],
    listGlobalAdvisories: ["GET /advisories"],
    listOrgRepositoryAdvisories: ["GET /orgs/{org}/security-advisories"],
    listRepositoryAdvisories: ["GET /repos/{owner}/{repo}/security-advisories"],
    updateRepositoryAdvisory: [
      "PATCH /repos/{owner}/{repo}/security-advisories/{ghsa_id}"
    ]
  },
  teams: {
    addOrUpdateMembershipForUserInOrg: [
      "PUT /orgs/{org}/teams/{team_slug}/memberships/{username}"
    ],
    addOrUpdateRepoPermissionsInOrg: [
      "PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}"
    ],
    checkPermissionsForRepoInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}"
    ],
    create: ["POST /orgs/{org}/teams"],
    createDiscussionCommentInOrg: [
      "POST /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments"
    ],
    createDiscussionInOrg: ["POST /orgs/{org}/teams/{team_slug}/discussions"],
    deleteDiscussionCommentInOrg: [
      "DELETE /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}"
    ],
    deleteDiscussionInOrg: [
      "DELETE /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}"
    ],
    deleteInOrg: ["DELETE /orgs/{org}/teams/{team_slug}"],
    getByName: ["GET /orgs/{org}/teams/{team_slug}"],
    getDiscussionCommentInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}"
    ],
    getDiscussionInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}"
    ],
    getMembershipForUserInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/memberships/{username}"
    ],
    list: ["GET /orgs/{org}/teams"],
    listChildInOrg: ["GET /orgs/{org}/teams/{team_slug}/teams"],
    listDiscussionCommentsInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments"
    ],
    listDiscussionsInOrg: ["GET /orgs/{org}/teams/{team_slug}/discussions"],
    listForAuthenticatedUser: ["GET /user/teams"],
    listMembersInOrg: ["GET /orgs/{org}/teams/{team_slug}/members"],
    listPendingInvitationsInOrg: [
      "GET /orgs/{org}/teams/{team_slug}/invitations"
    ],
    listReposInOrg: ["GET /orgs/{org}/teams/{team_slug}/repos"],
    removeMembershipForUserInOrg: [
      "DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}"
    ],
    removeRepoInOrg: [
      "DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}"
    ],
    updateDiscussionCommentInOrg: [
      "PATCH /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}/comments/{comment_number}"
    ],
    updateDiscussionInOrg: [
      "PATCH /orgs/{org}/teams/{team_slug}/discussions/{discussion_number}"
    ],
    updateInOrg: ["PATCH /orgs/{org}/teams/{team_slug}"]
  },
  users: {
    addEmailForAuthenticated: [
      "POST /user/emails",
      {},
      { renamed: ["users", "addEmailForAuthenticatedUser"] }
    ],
    addEmailForAuthenticatedUser: ["POST /user/emails"],
    addSocialAccountForAuthenticatedUser: ["POST /user/social_accounts"],
    block: ["PUT /user/blocks/{username}"],
    checkBlocked: ["GET /user/blocks/{username}"],
    checkFollowingForUser: ["GET /users/{username}/following/{target_user}"],
    checkPersonIsFollowedByAuthenticated: ["GET /user/following/{username}"],
    createGpgKeyForAuthenticated: [
      "POST /user/gpg_keys",
      {},
      { renamed: ["users", "createGpgKeyForAuthenticatedUser"] }
    ],
    createGpgKeyForAuthenticatedUser: ["POST /user/gpg_keys"],
    createPublicSshKeyForAuthenticated: [
      "POST /user/keys",
      {},
      { renamed: ["users", "createPublicSshKeyForAuthenticatedUser"] }
    ],
    createPublicSshKeyForAuthenticatedUser: ["POST /user/keys"],
    createSshSigningKeyForAuthenticatedUser: ["POST /user/ssh_signing_keys"],
    deleteAttestationsBulk: [
      "POST /users/{username}/attestations/delete-request"
    ],
    deleteAttestationsById: [
      "DELETE /users/{username}/attestations/{attestation_id}"
    ],
    deleteAttestationsBySubjectDigest: [
      "DELETE /users/{username}/attestations/digest/{subject_digest}"
    ],
    deleteEmailForAuthenticated: [
      "DELETE /user/emails",
      {},
      { renamed: ["users", "deleteEmailForAuthenticatedUser"] }
    ],
    deleteEmailForAuthenticatedUser: ["DELETE /user/emails"],
    deleteGpgKeyForAuthenticated: [
      "DELETE /user/gpg_keys/{gpg_key_id}",
      {},
      { renamed: ["users", "deleteGpgKeyForAuthenticatedUser"] }
    ],
    deleteGpgKeyForAuthenticatedUser: ["DELETE /user/gpg_keys/{gpg_key_id}"],
    deletePublicSshKeyForAuthenticated: [
      "DELETE /user/keys/{key_id}",
      {},
      { renamed: ["users", "deletePublicSshKeyForAuthenticatedUser"] }
    ],
    deletePublicSshKeyForAuthenticatedUser: ["DELETE /user/keys/{key_id}"],
    deleteSocialAccountForAuthenticatedUser: ["DELETE /user/social_accounts"],
    deleteSshSigningKeyForAuthenticatedUser: [
      "DELETE /user/ssh_signing_keys/{ssh_signing_key_id}"
    ],
    follow: ["PUT /user/following/{username}"],
    getAuthenticated: ["GET /user"],
    getById: ["GET /user/{account_id}"],
    getByUsername: ["GET /users/{username}"],
    getContextForUser: ["GET /users/{username}/hovercard"],
    getGpgKeyForAuthenticated: [
      "GET /user/gpg_keys/{gpg_key_id}",
      {},
      { renamed: ["users", "getGpgKeyForAuthenticatedUser"] }
    ],
    getGpgKeyForAuthenticatedUser: ["GET /user/gpg_keys/{gpg_key_id}"],
    getPublicSshKeyForAuthenticated: [
      "GET /user/keys/{key_id}",
      {},
      { renamed: ["users", "getPublicSshKeyForAuthenticatedUser"] }
    ],
    getPublicSshKeyForAuthenticatedUser: ["GET /user/keys/{key_id}"],
    getSshSigningKeyForAuthenticatedUser: [
      "GET /user/ssh_signing_keys/{ssh_signing_key_id}"
    ],
    list: ["GET /users"],
    listAttestations: ["GET /users/{username}/attestations/{subject_digest}"],
    listAttestationsBulk: [
      "POST /users/{username}/attestations/bulk-list{?per_page,before,after}"
    ],
    listBlockedByAuthenticated: [
      "GET /user/blocks",
      {},
      { renamed: ["users", "listBlockedByAuthenticatedUser"] }
    ],
    listBlockedByAuthenticatedUser: ["GET /user/blocks"],
    listEmailsForAuthenticated: [
      "GET /user/emails",
      {},
      { renamed: ["users", "listEmailsForAuthenticatedUser"] }
    ],
    listEmailsForAuthenticatedUser: ["GET /user/emails"],
    listFollowedByAuthenticated: [
      "GET /user/following",
      {},
      { renamed: ["users", "listFollowedByAuthenticatedUser"] }
    ],
    listFollowedByAuthenticatedUser: ["GET /user/following"],
    listFollowersForAuthenticatedUser: ["GET /user/followers"],
    listFollowersForUser: ["GET /users/{username}/followers"],
    listFollowingForUser: ["GET /users/{username}/following"],
    listGpgKeysForAuthenticated: [
      "GET /user/gpg_keys",
      {},
      { renamed: ["users", "listGpgKeysForAuthenticatedUser"] }
    ],
    listGpgKeysForAuthenticatedUser: ["GET /user/gpg_keys"],
    listGpgKeysForUser: ["GET /users/{username}/gpg_keys"],
    listPublicEmailsForAuthenticated: [
      "GET /user/public_emails",
      {},
      { renamed: ["users", "listPublicEmailsForAuthenticatedUser"] }
    ],
    listPublicEmailsForAuthenticatedUser: ["GET /user/public_emails"],
    listPublicKeysForUser: ["GET /users/{username}/keys"],
    listPublicSshKeysForAuthenticated: [
      "GET /user/keys",
      {},
      { renamed: ["users", "listPublicSshKeysForAuthenticatedUser"] }
    ],
    listPublicSshKeysForAuthenticatedUser: ["GET /user/keys"],
    listSocialAccountsForAuthenticatedUser: ["GET /user/social_accounts"],
    listSocialAccountsForUser: ["GET /users/{username}/social_accounts"],
    listSshSigningKeysForAuthenticatedUser: ["GET /user/ssh_signing_keys"],
    listSshSigningKeysForUser: ["GET /users/{username}/ssh_signing_keys"],
    setPrimaryEmailVisibilityForAuthenticated: [
      "PATCH /user/email/visibility",
      {},
      { renamed: ["users", "setPrimaryEmailVisibilityForAuthenticatedUser"] }
    ],
    setPrimaryEmailVisibilityForAuthenticatedUser: [
      "PATCH /user/email/visibility"
    ],
    unblock: ["DELETE /user/blocks/{username}"],
    unfollow: ["DELETE /user/following/{username}"],
    updateAuthenticated: ["PATCH /user"]
  }
};
var endpoints_default = Endpoints;

//# sourceMappingURL=endpoints.js.map

;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-rest-endpoint-methods/dist-src/endpoints-to-methods.js

const endpointMethodsMap = /* @__PURE__ */ new Map();
for (const [scope, endpoints] of Object.entries(endpoints_default)) {
  for (const [methodName, endpoint] of Object.entries(endpoints)) {
    const [route, defaults, decorations] = endpoint;
    const [method, url] = route.split(/ /);
    const endpointDefaults = Object.assign(
      {
        method,
        url
      },
      defaults
    );
    if (!endpointMethodsMap.has(scope)) {
      endpointMethodsMap.set(scope, /* @__PURE__ */ new Map());
    }
    endpointMethodsMap.get(scope).set(methodName, {
      scope,
      methodName,
      endpointDefaults,
      decorations
    });
  }
}
const handler = {
  has({ scope }, methodName) {
    return endpointMethodsMap.get(scope).has(methodName);
  },
  getOwnPropertyDescriptor(target, methodName) {
    return {
      value: this.get(target, methodName),
      // ensures method is in the cache
      configurable: true,
      writable: true,
      enumerable: true
    };
  },
  defineProperty(target, methodName, descriptor) {
    Object.defineProperty(target.cache, methodName, descriptor);
    return true;
  },
  deleteProperty(target, methodName) {
    delete target.cache[methodName];
    return true;
  },
  ownKeys({ scope }) {
    return [...endpointMethodsMap.get(scope).keys()];
  },
  set(target, methodName, value) {
    return target.cache[methodName] = value;
  },
  get({ octokit, scope, cache }, methodName) {
    if (cache[methodName]) {
      return cache[methodName];
    }
    const method = endpointMethodsMap.get(scope).get(methodName);
    if (!method) {
      return void 0;
    }
    const { endpointDefaults, decorations } = method;
    if (decorations) {
      cache[methodName] = decorate(
        octokit,
        scope,
        methodName,
        endpointDefaults,
        decorations
      );
    } else {
      cache[methodName] = octokit.request.defaults(endpointDefaults);
    }
    return cache[methodName];
  }
};
function endpointsToMethods(octokit) {
  const newMethods = {};
  for (const scope of endpointMethodsMap.keys()) {
    newMethods[scope] = new Proxy({ octokit, scope, cache: {} }, handler);
  }
  return newMethods;
}
function decorate(octokit, scope, methodName, defaults, decorations) {
  const requestWithDefaults = octokit.request.defaults(defaults);
  function withDecorations(...args) {
    let options = requestWithDefaults.endpoint.merge(...args);
    if (decorations.mapToData) {
      options = Object.assign({}, options, {
        data: options[decorations.mapToData],
        [decorations.mapToData]: void 0
      });
      return requestWithDefaults(options);
    }
    if (decorations.renamed) {
      const [newScope, newMethodName] = decorations.renamed;
      octokit.log.warn(
        `octokit.${scope}.${methodName}() has been renamed to octokit.${newScope}.${newMethodName}()`
      );
    }
    if (decorations.deprecated) {
      octokit.log.warn(decorations.deprecated);
    }
    if (decorations.renamedParameters) {
      const options2 = requestWithDefaults.endpoint.merge(...args);
      for (const [name, alias] of Object.entries(
        decorations.renamedParameters
      )) {
        if (name in options2) {
          octokit.log.warn(
            `"${name}" parameter is deprecated for "octokit.${scope}.${methodName}()". Use "${alias}" instead`
          );
          if (!(alias in options2)) {
            options2[alias] = options2[name];
          }
          delete options2[name];
        }
      }
      return requestWithDefaults(options2);
    }
    return requestWithDefaults(...args);
  }
  return Object.assign(withDecorations, requestWithDefaults);
}

//# sourceMappingURL=endpoints-to-methods.js.map

;// CONCATENATED MODULE: ./node_modules/@octokit/plugin-rest-endpoint-methods/dist-src/index.js


function restEndpointMethods(octokit) {
  const api = endpointsToMethods(octokit);
  return {
    rest: api
  };
}
restEndpointMethods.VERSION = plugin_rest_endpoint_methods_dist_src_version_VERSION;
function legacyRestEndpointMethods(octokit) {
  const api = endpointsToMethods(octokit);
  return {
    ...api,
    rest: api
  };
}
legacyRestEndpointMethods.VERSION = plugin_rest_endpoint_methods_dist_src_version_VERSION;

//# sourceMappingURL=index.js.map

;// CONCATENATED MODULE: ./node_modules/@octokit/rest/dist-src/version.js
const rest_dist_src_version_VERSION = "22.0.1";


;// CONCATENATED MODULE: ./node_modules/@octokit/rest/dist-src/index.js





const dist_src_Octokit = Octokit.plugin(requestLog, legacyRestEndpointMethods, paginateRest).defaults(
  {
    userAgent: `octokit-rest.js/${rest_dist_src_version_VERSION}`
  }
);


// EXTERNAL MODULE: ./src/github/deadline.ts
var deadline = __nccwpck_require__(523);
;// CONCATENATED MODULE: ./src/github/octokit.ts
/**
 * The GitHub REST client: @octokit/rest with the retry and throttling plugins, against the run's
 * GITHUB_API_URL (so GitHub Enterprise Server and the tests' fake API work the same way).
 */





/** The Octokit class this action uses. The deadline's plugin comes first: its hook runs around each try. */
const ActionOctokit = dist_src_Octokit.plugin(deadline/* deadlinePlugin */.Ic, retry, throttling);
const DEFAULT_RETRIES = 2;
const DEFAULT_SECONDARY_RETRIES = 5;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_WAIT_S = 60;
/**
 * Statuses the retry plugin does not retry: its own list (plugin-retry 8.1.1: 400, 401, 403, 404,
 * 410, 422, 451) and 429. GitHub answers a rate limit with a 403 or a 429 ("Rate limits for the
 * REST API", "Exceeding the rate limit") and says when to try again; the throttling plugin reads
 * that, while the retry plugin would retry a 429 after its own 1 s and 4 s, before GitHub's
 * `retry-after`, which GitHub warns may get an integration banned.
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];
/**
 * The throttling plugin's pacing groups as plugin-throttling 11.0.5 makes them (one write a second,
 * 3 s between writes that notify, 2 s between searches), with its seconds in `unitMs` units: a client
 * made with retryAfterBaseValue paces on that scale, in groups of its own (the plugin's defaults are
 * shared by every client in the process).
 */
function pacing(unitMs) {
    const group = (id, seconds) => new (light_default()).Group({ id, maxConcurrent: 1, minTime: seconds * unitMs });
    return {
        write: group('octokit-write', 1),
        notifications: group('octokit-notifications', 3),
        search: group('octokit-search', 2),
    };
}
/**
 * Builds the client. The throttling handlers retry a bounded number of times (never forever: a
 * comment is not worth a job stuck on a rate limit) and only when the wait is short.
 */
function createGitHubClient(o) {
    const retries = o.retries ?? DEFAULT_RETRIES;
    const secondaryRetries = o.secondaryRetries ?? DEFAULT_SECONDARY_RETRIES;
    const maxWait = o.maxRateLimitWaitSeconds ?? DEFAULT_MAX_WAIT_S;
    const timeoutMs = o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const base = o.retryAfterBaseValue;
    const now = o.now ?? Date.now;
    const at = typeof o.deadline === 'function' ? o.deadline : () => o.deadline ?? Infinity;
    const githubDeadline = { now, at };
    const onLimit = (kind, tries) => (retryAfter, options, _octokit, retryCount) => {
        const what = `${options.method ?? 'GET'} ${options.url ?? ''}`;
        // The plugins wait retryAfter units of retryAfterBaseValue ms (seconds, but for tests).
        const endsAt = now() + retryAfter * (base ?? 1000);
        if (retryCount < tries && retryAfter <= maxWait && endsAt < at()) {
            o.log.debug(`GitHub ${kind} on ${what}; retrying in ${retryAfter} s (retry ${retryCount + 1})`);
            return true;
        }
        const why = retryCount >= tries
            ? `after ${retryCount} retries`
            : retryAfter > maxWait
                ? `GitHub asks to wait ${retryAfter} s`
                : `waiting ${retryAfter} s would pass the step's deadline (the 'timeout' input)`;
        o.log.warning(`GitHub ${kind} on ${what}; not retrying: ${why}`);
        return false;
    };
    // A try's timeout: the client's, cut to what is left of the deadline (deadlinePlugin refuses a
    // try once nothing is left).
    const timedFetch = (input, init) => fetch(input, {
        ...init,
        signal: init?.signal ?? AbortSignal.timeout(Math.max(1, Math.ceil(Math.min(timeoutMs, at() - now())))),
    });
    const octokit = new ActionOctokit({
        auth: o.token,
        baseUrl: o.baseUrl.replace(/\/+$/, ''),
        userAgent: o.userAgent,
        request: { fetch: timedFetch },
        githubDeadline,
        retry: {
            retries,
            doNotRetry: DO_NOT_RETRY,
            ...(base !== undefined ? { retryAfterBaseValue: base } : {}),
        },
        throttle: {
            enabled: o.throttle ?? true,
            onRateLimit: onLimit('rate limit', retries),
            onSecondaryRateLimit: onLimit('secondary rate limit', secondaryRetries),
            ...(base !== undefined ? { retryAfterBaseValue: base, ...pacing(base) } : {}),
        },
        log: {
            debug: (m) => o.log.debug(m),
            info: (m) => o.log.debug(m),
            warn: (m) => o.log.debug(`octokit: ${m}`),
            error: (m) => o.log.debug(`octokit: ${m}`),
        },
    });
    const stats = { requests: 0 };
    octokit.hook.before('request', (options) => {
        stats.requests++;
        o.log.debug(`GitHub API: ${options.method} ${options.url}`);
    });
    return { octokit, stats };
}


/***/ }),

/***/ 407:
/***/ ((module, __unused_webpack___webpack_exports__, __nccwpck_require__) => {

__nccwpck_require__.a(module, async (__webpack_handle_async_dependencies__, __webpack_async_result__) => { try {
/* harmony import */ var _main_js__WEBPACK_IMPORTED_MODULE_0__ = __nccwpck_require__(543);

await (0,_main_js__WEBPACK_IMPORTED_MODULE_0__/* .run */ .e)();

__webpack_async_result__();
} catch(e) { __webpack_async_result__(e); } }, 1);

/***/ }),

/***/ 543:
/***/ ((__unused_webpack_module, __webpack_exports__, __nccwpck_require__) => {


// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  e: () => (/* binding */ run)
});

;// CONCATENATED MODULE: external "os"
const external_os_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("os");
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/utils.js
// We use any as a valid input type
/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Sanitizes an input into a string so it can be passed into issueCommand safely
 * @param input input to sanitize into a string
 */
function utils_toCommandValue(input) {
    if (input === null || input === undefined) {
        return '';
    }
    else if (typeof input === 'string' || input instanceof String) {
        return input;
    }
    return JSON.stringify(input);
}
/**
 *
 * @param annotationProperties
 * @returns The command properties to send with the actual annotation command
 * See IssueCommandProperties: https://github.com/actions/runner/blob/main/src/Runner.Worker/ActionCommandManager.cs#L646
 */
function toCommandProperties(annotationProperties) {
    if (!Object.keys(annotationProperties).length) {
        return {};
    }
    return {
        title: annotationProperties.title,
        file: annotationProperties.file,
        line: annotationProperties.startLine,
        endLine: annotationProperties.endLine,
        col: annotationProperties.startColumn,
        endColumn: annotationProperties.endColumn
    };
}
//# sourceMappingURL=utils.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/command.js


/**
 * Issues a command to the GitHub Actions runner
 *
 * @param command - The command name to issue
 * @param properties - Additional properties for the command (key-value pairs)
 * @param message - The message to include with the command
 * @remarks
 * This function outputs a specially formatted string to stdout that the Actions
 * runner interprets as a command. These commands can control workflow behavior,
 * set outputs, create annotations, mask values, and more.
 *
 * Command Format:
 *   ::name key=value,key=value::message
 *
 * @example
 * ```typescript
 * // Issue a warning annotation
 * issueCommand('warning', {}, 'This is a warning message');
 * // Output: ::warning::This is a warning message
 *
 * // Set an environment variable
 * issueCommand('set-env', { name: 'MY_VAR' }, 'some value');
 * // Output: ::set-env name=MY_VAR::some value
 *
 * // Add a secret mask
 * issueCommand('add-mask', {}, 'secretValue123');
 * // Output: ::add-mask::secretValue123
 * ```
 *
 * @internal
 * This is an internal utility function that powers the public API functions
 * such as setSecret, warning, error, and exportVariable.
 */
function command_issueCommand(command, properties, message) {
    const cmd = new Command(command, properties, message);
    process.stdout.write(cmd.toString() + external_os_namespaceObject.EOL);
}
function command_issue(name, message = '') {
    command_issueCommand(name, {}, message);
}
const CMD_STRING = '::';
class Command {
    constructor(command, properties, message) {
        if (!command) {
            command = 'missing.command';
        }
        this.command = command;
        this.properties = properties;
        this.message = message;
    }
    toString() {
        let cmdStr = CMD_STRING + this.command;
        if (this.properties && Object.keys(this.properties).length > 0) {
            cmdStr += ' ';
            let first = true;
            for (const key in this.properties) {
                if (this.properties.hasOwnProperty(key)) {
                    const val = this.properties[key];
                    if (val) {
                        if (first) {
                            first = false;
                        }
                        else {
                            cmdStr += ',';
                        }
                        cmdStr += `${key}=${escapeProperty(val)}`;
                    }
                }
            }
        }
        cmdStr += `${CMD_STRING}${escapeData(this.message)}`;
        return cmdStr;
    }
}
function escapeData(s) {
    return utils_toCommandValue(s)
        .replace(/%/g, '%25')
        .replace(/\r/g, '%0D')
        .replace(/\n/g, '%0A');
}
function escapeProperty(s) {
    return utils_toCommandValue(s)
        .replace(/%/g, '%25')
        .replace(/\r/g, '%0D')
        .replace(/\n/g, '%0A')
        .replace(/:/g, '%3A')
        .replace(/,/g, '%2C');
}
//# sourceMappingURL=command.js.map
;// CONCATENATED MODULE: external "crypto"
const external_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("crypto");
;// CONCATENATED MODULE: external "fs"
const external_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("fs");
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/file-command.js
// For internal use, subject to change.
// We use any as a valid input type
/* eslint-disable @typescript-eslint/no-explicit-any */




function file_command_issueFileCommand(command, message) {
    const filePath = process.env[`GITHUB_${command}`];
    if (!filePath) {
        throw new Error(`Unable to find environment variable for file command ${command}`);
    }
    if (!external_fs_namespaceObject.existsSync(filePath)) {
        throw new Error(`Missing file at path: ${filePath}`);
    }
    external_fs_namespaceObject.appendFileSync(filePath, `${utils_toCommandValue(message)}${external_os_namespaceObject.EOL}`, {
        encoding: 'utf8'
    });
}
function file_command_prepareKeyValueMessage(key, value) {
    const delimiter = `ghadelimiter_${external_crypto_namespaceObject.randomUUID()}`;
    const convertedValue = utils_toCommandValue(value);
    // These should realistically never happen, but just in case someone finds a
    // way to exploit uuid generation let's not allow keys or values that contain
    // the delimiter.
    if (key.includes(delimiter)) {
        throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
    }
    if (convertedValue.includes(delimiter)) {
        throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
    }
    return `${key}<<${delimiter}${external_os_namespaceObject.EOL}${convertedValue}${external_os_namespaceObject.EOL}${delimiter}`;
}
//# sourceMappingURL=file-command.js.map
;// CONCATENATED MODULE: external "path"
const external_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("path");
// EXTERNAL MODULE: external "http"
var external_http_ = __nccwpck_require__(611);
// EXTERNAL MODULE: external "https"
var external_https_ = __nccwpck_require__(692);
;// CONCATENATED MODULE: ./node_modules/@actions/http-client/lib/proxy.js
function getProxyUrl(reqUrl) {
    const usingSsl = reqUrl.protocol === 'https:';
    if (checkBypass(reqUrl)) {
        return undefined;
    }
    const proxyVar = (() => {
        if (usingSsl) {
            return process.env['https_proxy'] || process.env['HTTPS_PROXY'];
        }
        else {
            return process.env['http_proxy'] || process.env['HTTP_PROXY'];
        }
    })();
    if (proxyVar) {
        try {
            return new DecodedURL(proxyVar);
        }
        catch (_a) {
            if (!proxyVar.startsWith('http://') && !proxyVar.startsWith('https://'))
                return new DecodedURL(`http://${proxyVar}`);
        }
    }
    else {
        return undefined;
    }
}
function checkBypass(reqUrl) {
    if (!reqUrl.hostname) {
        return false;
    }
    const reqHost = reqUrl.hostname;
    if (isLoopbackAddress(reqHost)) {
        return true;
    }
    const noProxy = process.env['no_proxy'] || process.env['NO_PROXY'] || '';
    if (!noProxy) {
        return false;
    }
    // Determine the request port
    let reqPort;
    if (reqUrl.port) {
        reqPort = Number(reqUrl.port);
    }
    else if (reqUrl.protocol === 'http:') {
        reqPort = 80;
    }
    else if (reqUrl.protocol === 'https:') {
        reqPort = 443;
    }
    // Format the request hostname and hostname with port
    const upperReqHosts = [reqUrl.hostname.toUpperCase()];
    if (typeof reqPort === 'number') {
        upperReqHosts.push(`${upperReqHosts[0]}:${reqPort}`);
    }
    // Compare request host against noproxy
    for (const upperNoProxyItem of noProxy
        .split(',')
        .map(x => x.trim().toUpperCase())
        .filter(x => x)) {
        if (upperNoProxyItem === '*' ||
            upperReqHosts.some(x => x === upperNoProxyItem ||
                x.endsWith(`.${upperNoProxyItem}`) ||
                (upperNoProxyItem.startsWith('.') &&
                    x.endsWith(`${upperNoProxyItem}`)))) {
            return true;
        }
    }
    return false;
}
function isLoopbackAddress(host) {
    const hostLower = host.toLowerCase();
    return (hostLower === 'localhost' ||
        hostLower.startsWith('127.') ||
        hostLower.startsWith('[::1]') ||
        hostLower.startsWith('[0:0:0:0:0:0:0:1]'));
}
class DecodedURL extends URL {
    constructor(url, base) {
        super(url, base);
        this._decodedUsername = decodeURIComponent(super.username);
        this._decodedPassword = decodeURIComponent(super.password);
    }
    get username() {
        return this._decodedUsername;
    }
    get password() {
        return this._decodedPassword;
    }
}
//# sourceMappingURL=proxy.js.map
// EXTERNAL MODULE: ./node_modules/tunnel/index.js
var node_modules_tunnel = __nccwpck_require__(770);
;// CONCATENATED MODULE: ./node_modules/@actions/http-client/lib/index.js
/* eslint-disable @typescript-eslint/no-explicit-any */
var __awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};





var HttpCodes;
(function (HttpCodes) {
    HttpCodes[HttpCodes["OK"] = 200] = "OK";
    HttpCodes[HttpCodes["MultipleChoices"] = 300] = "MultipleChoices";
    HttpCodes[HttpCodes["MovedPermanently"] = 301] = "MovedPermanently";
    HttpCodes[HttpCodes["ResourceMoved"] = 302] = "ResourceMoved";
    HttpCodes[HttpCodes["SeeOther"] = 303] = "SeeOther";
    HttpCodes[HttpCodes["NotModified"] = 304] = "NotModified";
    HttpCodes[HttpCodes["UseProxy"] = 305] = "UseProxy";
    HttpCodes[HttpCodes["SwitchProxy"] = 306] = "SwitchProxy";
    HttpCodes[HttpCodes["TemporaryRedirect"] = 307] = "TemporaryRedirect";
    HttpCodes[HttpCodes["PermanentRedirect"] = 308] = "PermanentRedirect";
    HttpCodes[HttpCodes["BadRequest"] = 400] = "BadRequest";
    HttpCodes[HttpCodes["Unauthorized"] = 401] = "Unauthorized";
    HttpCodes[HttpCodes["PaymentRequired"] = 402] = "PaymentRequired";
    HttpCodes[HttpCodes["Forbidden"] = 403] = "Forbidden";
    HttpCodes[HttpCodes["NotFound"] = 404] = "NotFound";
    HttpCodes[HttpCodes["MethodNotAllowed"] = 405] = "MethodNotAllowed";
    HttpCodes[HttpCodes["NotAcceptable"] = 406] = "NotAcceptable";
    HttpCodes[HttpCodes["ProxyAuthenticationRequired"] = 407] = "ProxyAuthenticationRequired";
    HttpCodes[HttpCodes["RequestTimeout"] = 408] = "RequestTimeout";
    HttpCodes[HttpCodes["Conflict"] = 409] = "Conflict";
    HttpCodes[HttpCodes["Gone"] = 410] = "Gone";
    HttpCodes[HttpCodes["TooManyRequests"] = 429] = "TooManyRequests";
    HttpCodes[HttpCodes["InternalServerError"] = 500] = "InternalServerError";
    HttpCodes[HttpCodes["NotImplemented"] = 501] = "NotImplemented";
    HttpCodes[HttpCodes["BadGateway"] = 502] = "BadGateway";
    HttpCodes[HttpCodes["ServiceUnavailable"] = 503] = "ServiceUnavailable";
    HttpCodes[HttpCodes["GatewayTimeout"] = 504] = "GatewayTimeout";
})(HttpCodes || (HttpCodes = {}));
var Headers;
(function (Headers) {
    Headers["Accept"] = "accept";
    Headers["ContentType"] = "content-type";
})(Headers || (Headers = {}));
var MediaTypes;
(function (MediaTypes) {
    MediaTypes["ApplicationJson"] = "application/json";
})(MediaTypes || (MediaTypes = {}));
/**
 * Returns the proxy URL, depending upon the supplied url and proxy environment variables.
 * @param serverUrl  The server URL where the request will be sent. For example, https://api.github.com
 */
function lib_getProxyUrl(serverUrl) {
    const proxyUrl = pm.getProxyUrl(new URL(serverUrl));
    return proxyUrl ? proxyUrl.href : '';
}
const HttpRedirectCodes = [
    HttpCodes.MovedPermanently,
    HttpCodes.ResourceMoved,
    HttpCodes.SeeOther,
    HttpCodes.TemporaryRedirect,
    HttpCodes.PermanentRedirect
];
const HttpResponseRetryCodes = [
    HttpCodes.BadGateway,
    HttpCodes.ServiceUnavailable,
    HttpCodes.GatewayTimeout
];
const RetryableHttpVerbs = (/* unused pure expression or super */ null && (['OPTIONS', 'GET', 'DELETE', 'HEAD']));
const ExponentialBackoffCeiling = 10;
const ExponentialBackoffTimeSlice = 5;
class HttpClientError extends Error {
    constructor(message, statusCode) {
        super(message);
        this.name = 'HttpClientError';
        this.statusCode = statusCode;
        Object.setPrototypeOf(this, HttpClientError.prototype);
    }
}
class HttpClientResponse {
    constructor(message) {
        this.message = message;
    }
    readBody() {
        return __awaiter(this, void 0, void 0, function* () {
            return new Promise((resolve) => __awaiter(this, void 0, void 0, function* () {
                let output = Buffer.alloc(0);
                this.message.on('data', (chunk) => {
                    output = Buffer.concat([output, chunk]);
                });
                this.message.on('end', () => {
                    resolve(output.toString());
                });
            }));
        });
    }
    readBodyBuffer() {
        return __awaiter(this, void 0, void 0, function* () {
            return new Promise((resolve) => __awaiter(this, void 0, void 0, function* () {
                const chunks = [];
                this.message.on('data', (chunk) => {
                    chunks.push(chunk);
                });
                this.message.on('end', () => {
                    resolve(Buffer.concat(chunks));
                });
            }));
        });
    }
}
function isHttps(requestUrl) {
    const parsedUrl = new URL(requestUrl);
    return parsedUrl.protocol === 'https:';
}
class lib_HttpClient {
    constructor(userAgent, handlers, requestOptions) {
        this._ignoreSslError = false;
        this._allowRedirects = true;
        this._allowRedirectDowngrade = false;
        this._maxRedirects = 50;
        this._allowRetries = false;
        this._maxRetries = 1;
        this._keepAlive = false;
        this._disposed = false;
        this.userAgent = this._getUserAgentWithOrchestrationId(userAgent);
        this.handlers = handlers || [];
        this.requestOptions = requestOptions;
        if (requestOptions) {
            if (requestOptions.ignoreSslError != null) {
                this._ignoreSslError = requestOptions.ignoreSslError;
            }
            this._socketTimeout = requestOptions.socketTimeout;
            if (requestOptions.allowRedirects != null) {
                this._allowRedirects = requestOptions.allowRedirects;
            }
            if (requestOptions.allowRedirectDowngrade != null) {
                this._allowRedirectDowngrade = requestOptions.allowRedirectDowngrade;
            }
            if (requestOptions.maxRedirects != null) {
                this._maxRedirects = Math.max(requestOptions.maxRedirects, 0);
            }
            if (requestOptions.keepAlive != null) {
                this._keepAlive = requestOptions.keepAlive;
            }
            if (requestOptions.allowRetries != null) {
                this._allowRetries = requestOptions.allowRetries;
            }
            if (requestOptions.maxRetries != null) {
                this._maxRetries = requestOptions.maxRetries;
            }
        }
    }
    options(requestUrl, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('OPTIONS', requestUrl, null, additionalHeaders || {});
        });
    }
    get(requestUrl, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('GET', requestUrl, null, additionalHeaders || {});
        });
    }
    del(requestUrl, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('DELETE', requestUrl, null, additionalHeaders || {});
        });
    }
    post(requestUrl, data, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('POST', requestUrl, data, additionalHeaders || {});
        });
    }
    patch(requestUrl, data, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('PATCH', requestUrl, data, additionalHeaders || {});
        });
    }
    put(requestUrl, data, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('PUT', requestUrl, data, additionalHeaders || {});
        });
    }
    head(requestUrl, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request('HEAD', requestUrl, null, additionalHeaders || {});
        });
    }
    sendStream(verb, requestUrl, stream, additionalHeaders) {
        return __awaiter(this, void 0, void 0, function* () {
            return this.request(verb, requestUrl, stream, additionalHeaders);
        });
    }
    /**
     * Gets a typed object from an endpoint
     * Be aware that not found returns a null.  Other errors (4xx, 5xx) reject the promise
     */
    getJson(requestUrl_1) {
        return __awaiter(this, arguments, void 0, function* (requestUrl, additionalHeaders = {}) {
            additionalHeaders[Headers.Accept] = this._getExistingOrDefaultHeader(additionalHeaders, Headers.Accept, MediaTypes.ApplicationJson);
            const res = yield this.get(requestUrl, additionalHeaders);
            return this._processResponse(res, this.requestOptions);
        });
    }
    postJson(requestUrl_1, obj_1) {
        return __awaiter(this, arguments, void 0, function* (requestUrl, obj, additionalHeaders = {}) {
            const data = JSON.stringify(obj, null, 2);
            additionalHeaders[Headers.Accept] = this._getExistingOrDefaultHeader(additionalHeaders, Headers.Accept, MediaTypes.ApplicationJson);
            additionalHeaders[Headers.ContentType] =
                this._getExistingOrDefaultContentTypeHeader(additionalHeaders, MediaTypes.ApplicationJson);
            const res = yield this.post(requestUrl, data, additionalHeaders);
            return this._processResponse(res, this.requestOptions);
        });
    }
    putJson(requestUrl_1, obj_1) {
        return __awaiter(this, arguments, void 0, function* (requestUrl, obj, additionalHeaders = {}) {
            const data = JSON.stringify(obj, null, 2);
            additionalHeaders[Headers.Accept] = this._getExistingOrDefaultHeader(additionalHeaders, Headers.Accept, MediaTypes.ApplicationJson);
            additionalHeaders[Headers.ContentType] =
                this._getExistingOrDefaultContentTypeHeader(additionalHeaders, MediaTypes.ApplicationJson);
            const res = yield this.put(requestUrl, data, additionalHeaders);
            return this._processResponse(res, this.requestOptions);
        });
    }
    patchJson(requestUrl_1, obj_1) {
        return __awaiter(this, arguments, void 0, function* (requestUrl, obj, additionalHeaders = {}) {
            const data = JSON.stringify(obj, null, 2);
            additionalHeaders[Headers.Accept] = this._getExistingOrDefaultHeader(additionalHeaders, Headers.Accept, MediaTypes.ApplicationJson);
            additionalHeaders[Headers.ContentType] =
                this._getExistingOrDefaultContentTypeHeader(additionalHeaders, MediaTypes.ApplicationJson);
            const res = yield this.patch(requestUrl, data, additionalHeaders);
            return this._processResponse(res, this.requestOptions);
        });
    }
    /**
     * Makes a raw http request.
     * All other methods such as get, post, patch, and request ultimately call this.
     * Prefer get, del, post and patch
     */
    request(verb, requestUrl, data, headers) {
        return __awaiter(this, void 0, void 0, function* () {
            if (this._disposed) {
                throw new Error('Client has already been disposed.');
            }
            const parsedUrl = new URL(requestUrl);
            let info = this._prepareRequest(verb, parsedUrl, headers);
            // Only perform retries on reads since writes may not be idempotent.
            const maxTries = this._allowRetries && RetryableHttpVerbs.includes(verb)
                ? this._maxRetries + 1
                : 1;
            let numTries = 0;
            let response;
            do {
                response = yield this.requestRaw(info, data);
                // Check if it's an authentication challenge
                if (response &&
                    response.message &&
                    response.message.statusCode === HttpCodes.Unauthorized) {
                    let authenticationHandler;
                    for (const handler of this.handlers) {
                        if (handler.canHandleAuthentication(response)) {
                            authenticationHandler = handler;
                            break;
                        }
                    }
                    if (authenticationHandler) {
                        return authenticationHandler.handleAuthentication(this, info, data);
                    }
                    else {
                        // We have received an unauthorized response but have no handlers to handle it.
                        // Let the response return to the caller.
                        return response;
                    }
                }
                let redirectsRemaining = this._maxRedirects;
                while (response.message.statusCode &&
                    HttpRedirectCodes.includes(response.message.statusCode) &&
                    this._allowRedirects &&
                    redirectsRemaining > 0) {
                    const redirectUrl = response.message.headers['location'];
                    if (!redirectUrl) {
                        // if there's no location to redirect to, we won't
                        break;
                    }
                    const parsedRedirectUrl = new URL(redirectUrl);
                    if (parsedUrl.protocol === 'https:' &&
                        parsedUrl.protocol !== parsedRedirectUrl.protocol &&
                        !this._allowRedirectDowngrade) {
                        throw new Error('Redirect from HTTPS to HTTP protocol. This downgrade is not allowed for security reasons. If you want to allow this behavior, set the allowRedirectDowngrade option to true.');
                    }
                    // we need to finish reading the response before reassigning response
                    // which will leak the open socket.
                    yield response.readBody();
                    // strip authorization header if redirected to a different hostname
                    if (parsedRedirectUrl.hostname !== parsedUrl.hostname) {
                        for (const header in headers) {
                            // header names are case insensitive
                            if (header.toLowerCase() === 'authorization') {
                                delete headers[header];
                            }
                        }
                    }
                    // let's make the request with the new redirectUrl
                    info = this._prepareRequest(verb, parsedRedirectUrl, headers);
                    response = yield this.requestRaw(info, data);
                    redirectsRemaining--;
                }
                if (!response.message.statusCode ||
                    !HttpResponseRetryCodes.includes(response.message.statusCode)) {
                    // If not a retry code, return immediately instead of retrying
                    return response;
                }
                numTries += 1;
                if (numTries < maxTries) {
                    yield response.readBody();
                    yield this._performExponentialBackoff(numTries);
                }
            } while (numTries < maxTries);
            return response;
        });
    }
    /**
     * Needs to be called if keepAlive is set to true in request options.
     */
    dispose() {
        if (this._agent) {
            this._agent.destroy();
        }
        this._disposed = true;
    }
    /**
     * Raw request.
     * @param info
     * @param data
     */
    requestRaw(info, data) {
        return __awaiter(this, void 0, void 0, function* () {
            return new Promise((resolve, reject) => {
                function callbackForResult(err, res) {
                    if (err) {
                        reject(err);
                    }
                    else if (!res) {
                        // If `err` is not passed, then `res` must be passed.
                        reject(new Error('Unknown error'));
                    }
                    else {
                        resolve(res);
                    }
                }
                this.requestRawWithCallback(info, data, callbackForResult);
            });
        });
    }
    /**
     * Raw request with callback.
     * @param info
     * @param data
     * @param onResult
     */
    requestRawWithCallback(info, data, onResult) {
        if (typeof data === 'string') {
            if (!info.options.headers) {
                info.options.headers = {};
            }
            info.options.headers['Content-Length'] = Buffer.byteLength(data, 'utf8');
        }
        let callbackCalled = false;
        function handleResult(err, res) {
            if (!callbackCalled) {
                callbackCalled = true;
                onResult(err, res);
            }
        }
        const req = info.httpModule.request(info.options, (msg) => {
            const res = new HttpClientResponse(msg);
            handleResult(undefined, res);
        });
        let socket;
        req.on('socket', sock => {
            socket = sock;
        });
        // If we ever get disconnected, we want the socket to timeout eventually
        req.setTimeout(this._socketTimeout || 3 * 60000, () => {
            if (socket) {
                socket.end();
            }
            handleResult(new Error(`Request timeout: ${info.options.path}`));
        });
        req.on('error', function (err) {
            // err has statusCode property
            // res should have headers
            handleResult(err);
        });
        if (data && typeof data === 'string') {
            req.write(data, 'utf8');
        }
        if (data && typeof data !== 'string') {
            data.on('close', function () {
                req.end();
            });
            data.pipe(req);
        }
        else {
            req.end();
        }
    }
    /**
     * Gets an http agent. This function is useful when you need an http agent that handles
     * routing through a proxy server - depending upon the url and proxy environment variables.
     * @param serverUrl  The server URL where the request will be sent. For example, https://api.github.com
     */
    getAgent(serverUrl) {
        const parsedUrl = new URL(serverUrl);
        return this._getAgent(parsedUrl);
    }
    getAgentDispatcher(serverUrl) {
        const parsedUrl = new URL(serverUrl);
        const proxyUrl = pm.getProxyUrl(parsedUrl);
        const useProxy = proxyUrl && proxyUrl.hostname;
        if (!useProxy) {
            return;
        }
        return this._getProxyAgentDispatcher(parsedUrl, proxyUrl);
    }
    _prepareRequest(method, requestUrl, headers) {
        const info = {};
        info.parsedUrl = requestUrl;
        const usingSsl = info.parsedUrl.protocol === 'https:';
        info.httpModule = usingSsl ? https : http;
        const defaultPort = usingSsl ? 443 : 80;
        info.options = {};
        info.options.host = info.parsedUrl.hostname;
        info.options.port = info.parsedUrl.port
            ? parseInt(info.parsedUrl.port)
            : defaultPort;
        info.options.path =
            (info.parsedUrl.pathname || '') + (info.parsedUrl.search || '');
        info.options.method = method;
        info.options.headers = this._mergeHeaders(headers);
        if (this.userAgent != null) {
            info.options.headers['user-agent'] = this.userAgent;
        }
        info.options.agent = this._getAgent(info.parsedUrl);
        // gives handlers an opportunity to participate
        if (this.handlers) {
            for (const handler of this.handlers) {
                handler.prepareRequest(info.options);
            }
        }
        return info;
    }
    _mergeHeaders(headers) {
        if (this.requestOptions && this.requestOptions.headers) {
            return Object.assign({}, lowercaseKeys(this.requestOptions.headers), lowercaseKeys(headers || {}));
        }
        return lowercaseKeys(headers || {});
    }
    /**
     * Gets an existing header value or returns a default.
     * Handles converting number header values to strings since HTTP headers must be strings.
     * Note: This returns string | string[] since some headers can have multiple values.
     * For headers that must always be a single string (like Content-Type), use the
     * specialized _getExistingOrDefaultContentTypeHeader method instead.
     */
    _getExistingOrDefaultHeader(additionalHeaders, header, _default) {
        let clientHeader;
        if (this.requestOptions && this.requestOptions.headers) {
            const headerValue = lowercaseKeys(this.requestOptions.headers)[header];
            if (headerValue) {
                clientHeader =
                    typeof headerValue === 'number' ? headerValue.toString() : headerValue;
            }
        }
        const additionalValue = additionalHeaders[header];
        if (additionalValue !== undefined) {
            return typeof additionalValue === 'number'
                ? additionalValue.toString()
                : additionalValue;
        }
        if (clientHeader !== undefined) {
            return clientHeader;
        }
        return _default;
    }
    /**
     * Specialized version of _getExistingOrDefaultHeader for Content-Type header.
     * Always returns a single string (not an array) since Content-Type should be a single value.
     * Converts arrays to comma-separated strings and numbers to strings to ensure type safety.
     * This was split from _getExistingOrDefaultHeader to provide stricter typing for callers
     * that assign the result to places expecting a string (e.g., additionalHeaders[Headers.ContentType]).
     */
    _getExistingOrDefaultContentTypeHeader(additionalHeaders, _default) {
        let clientHeader;
        if (this.requestOptions && this.requestOptions.headers) {
            const headerValue = lowercaseKeys(this.requestOptions.headers)[Headers.ContentType];
            if (headerValue) {
                if (typeof headerValue === 'number') {
                    clientHeader = String(headerValue);
                }
                else if (Array.isArray(headerValue)) {
                    clientHeader = headerValue.join(', ');
                }
                else {
                    clientHeader = headerValue;
                }
            }
        }
        const additionalValue = additionalHeaders[Headers.ContentType];
        // Return the first non-undefined value, converting numbers or arrays to strings if necessary
        if (additionalValue !== undefined) {
            if (typeof additionalValue === 'number') {
                return String(additionalValue);
            }
            else if (Array.isArray(additionalValue)) {
                return additionalValue.join(', ');
            }
            else {
                return additionalValue;
            }
        }
        if (clientHeader !== undefined) {
            return clientHeader;
        }
        return _default;
    }
    _getAgent(parsedUrl) {
        let agent;
        const proxyUrl = pm.getProxyUrl(parsedUrl);
        const useProxy = proxyUrl && proxyUrl.hostname;
        if (this._keepAlive && useProxy) {
            agent = this._proxyAgent;
        }
        if (!useProxy) {
            agent = this._agent;
        }
        // if agent is already assigned use that agent.
        if (agent) {
            return agent;
        }
        const usingSsl = parsedUrl.protocol === 'https:';
        let maxSockets = 100;
        if (this.requestOptions) {
            maxSockets = this.requestOptions.maxSockets || http.globalAgent.maxSockets;
        }
        // This is `useProxy` again, but we need to check `proxyURl` directly for TypeScripts's flow analysis.
        if (proxyUrl && proxyUrl.hostname) {
            const agentOptions = {
                maxSockets,
                keepAlive: this._keepAlive,
                proxy: Object.assign(Object.assign({}, ((proxyUrl.username || proxyUrl.password) && {
                    proxyAuth: `${proxyUrl.username}:${proxyUrl.password}`
                })), { host: proxyUrl.hostname, port: proxyUrl.port })
            };
            let tunnelAgent;
            const overHttps = proxyUrl.protocol === 'https:';
            if (usingSsl) {
                tunnelAgent = overHttps ? tunnel.httpsOverHttps : tunnel.httpsOverHttp;
            }
            else {
                tunnelAgent = overHttps ? tunnel.httpOverHttps : tunnel.httpOverHttp;
            }
            agent = tunnelAgent(agentOptions);
            this._proxyAgent = agent;
        }
        // if tunneling agent isn't assigned create a new agent
        if (!agent) {
            const options = { keepAlive: this._keepAlive, maxSockets };
            agent = usingSsl ? new https.Agent(options) : new http.Agent(options);
            this._agent = agent;
        }
        if (usingSsl && this._ignoreSslError) {
            // we don't want to set NODE_TLS_REJECT_UNAUTHORIZED=0 since that will affect request for entire process
            // http.RequestOptions doesn't expose a way to modify RequestOptions.agent.options
            // we have to cast it to any and change it directly
            agent.options = Object.assign(agent.options || {}, {
                rejectUnauthorized: false
            });
        }
        return agent;
    }
    _getProxyAgentDispatcher(parsedUrl, proxyUrl) {
        let proxyAgent;
        if (this._keepAlive) {
            proxyAgent = this._proxyAgentDispatcher;
        }
        // if agent is already assigned use that agent.
        if (proxyAgent) {
            return proxyAgent;
        }
        const usingSsl = parsedUrl.protocol === 'https:';
        proxyAgent = new ProxyAgent(Object.assign({ uri: proxyUrl.href, pipelining: !this._keepAlive ? 0 : 1 }, ((proxyUrl.username || proxyUrl.password) && {
            token: `Basic ${Buffer.from(`${proxyUrl.username}:${proxyUrl.password}`).toString('base64')}`
        })));
        this._proxyAgentDispatcher = proxyAgent;
        if (usingSsl && this._ignoreSslError) {
            // we don't want to set NODE_TLS_REJECT_UNAUTHORIZED=0 since that will affect request for entire process
            // http.RequestOptions doesn't expose a way to modify RequestOptions.agent.options
            // we have to cast it to any and change it directly
            proxyAgent.options = Object.assign(proxyAgent.options.requestTls || {}, {
                rejectUnauthorized: false
            });
        }
        return proxyAgent;
    }
    _getUserAgentWithOrchestrationId(userAgent) {
        const baseUserAgent = userAgent || 'actions/http-client';
        const orchId = process.env['ACTIONS_ORCHESTRATION_ID'];
        if (orchId) {
            // Sanitize the orchestration ID to ensure it contains only valid characters
            // Valid characters: 0-9, a-z, _, -, .
            const sanitizedId = orchId.replace(/[^a-z0-9_.-]/gi, '_');
            return `${baseUserAgent} actions_orchestration_id/${sanitizedId}`;
        }
        return baseUserAgent;
    }
    _performExponentialBackoff(retryNumber) {
        return __awaiter(this, void 0, void 0, function* () {
            retryNumber = Math.min(ExponentialBackoffCeiling, retryNumber);
            const ms = ExponentialBackoffTimeSlice * Math.pow(2, retryNumber);
            return new Promise(resolve => setTimeout(() => resolve(), ms));
        });
    }
    _processResponse(res, options) {
        return __awaiter(this, void 0, void 0, function* () {
            return new Promise((resolve, reject) => __awaiter(this, void 0, void 0, function* () {
                const statusCode = res.message.statusCode || 0;
                const response = {
                    statusCode,
                    result: null,
                    headers: {}
                };
                // not found leads to null obj returned
                if (statusCode === HttpCodes.NotFound) {
                    resolve(response);
                }
                // get the result from the body
                function dateTimeDeserializer(key, value) {
                    if (typeof value === 'string') {
                        const a = new Date(value);
                        if (!isNaN(a.valueOf())) {
                            return a;
                        }
                    }
                    return value;
                }
                let obj;
                let contents;
                try {
                    contents = yield res.readBody();
                    if (contents && contents.length > 0) {
                        if (options && options.deserializeDates) {
                            obj = JSON.parse(contents, dateTimeDeserializer);
                        }
                        else {
                            obj = JSON.parse(contents);
                        }
                        response.result = obj;
                    }
                    response.headers = res.message.headers;
                }
                catch (err) {
                    // Invalid resource (contents not json);  leaving result obj null
                }
                // note that 3xx redirects are handled by the http layer.
                if (statusCode > 299) {
                    let msg;
                    // if exception/error in body, attempt to get better error
                    if (obj && obj.message) {
                        msg = obj.message;
                    }
                    else if (contents && contents.length > 0) {
                        // it may be the case that the exception is in the body message as string
                        msg = contents;
                    }
                    else {
                        msg = `Failed request: (${statusCode})`;
                    }
                    const err = new HttpClientError(msg, statusCode);
                    err.result = response.result;
                    reject(err);
                }
                else {
                    resolve(response);
                }
            }));
        });
    }
}
const lowercaseKeys = (obj) => Object.keys(obj).reduce((c, k) => ((c[k.toLowerCase()] = obj[k]), c), {});
//# sourceMappingURL=index.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/http-client/lib/auth.js
var auth_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
class BasicCredentialHandler {
    constructor(username, password) {
        this.username = username;
        this.password = password;
    }
    prepareRequest(options) {
        if (!options.headers) {
            throw Error('The request has no headers');
        }
        options.headers['Authorization'] = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    }
    // This handler cannot handle 401
    canHandleAuthentication() {
        return false;
    }
    handleAuthentication() {
        return auth_awaiter(this, void 0, void 0, function* () {
            throw new Error('not implemented');
        });
    }
}
class auth_BearerCredentialHandler {
    constructor(token) {
        this.token = token;
    }
    // currently implements pre-authorization
    // TODO: support preAuth = false where it hooks on 401
    prepareRequest(options) {
        if (!options.headers) {
            throw Error('The request has no headers');
        }
        options.headers['Authorization'] = `Bearer ${this.token}`;
    }
    // This handler cannot handle 401
    canHandleAuthentication() {
        return false;
    }
    handleAuthentication() {
        return auth_awaiter(this, void 0, void 0, function* () {
            throw new Error('not implemented');
        });
    }
}
class PersonalAccessTokenCredentialHandler {
    constructor(token) {
        this.token = token;
    }
    // currently implements pre-authorization
    // TODO: support preAuth = false where it hooks on 401
    prepareRequest(options) {
        if (!options.headers) {
            throw Error('The request has no headers');
        }
        options.headers['Authorization'] = `Basic ${Buffer.from(`PAT:${this.token}`).toString('base64')}`;
    }
    // This handler cannot handle 401
    canHandleAuthentication() {
        return false;
    }
    handleAuthentication() {
        return auth_awaiter(this, void 0, void 0, function* () {
            throw new Error('not implemented');
        });
    }
}
//# sourceMappingURL=auth.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/oidc-utils.js
var oidc_utils_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};



class oidc_utils_OidcClient {
    static createHttpClient(allowRetry = true, maxRetry = 10) {
        const requestOptions = {
            allowRetries: allowRetry,
            maxRetries: maxRetry
        };
        return new HttpClient('actions/oidc-client', [new BearerCredentialHandler(oidc_utils_OidcClient.getRequestToken())], requestOptions);
    }
    static getRequestToken() {
        const token = process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
        if (!token) {
            throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable');
        }
        return token;
    }
    static getIDTokenUrl() {
        const runtimeUrl = process.env['ACTIONS_ID_TOKEN_REQUEST_URL'];
        if (!runtimeUrl) {
            throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable');
        }
        return runtimeUrl;
    }
    static getCall(id_token_url) {
        return oidc_utils_awaiter(this, void 0, void 0, function* () {
            var _a;
            const httpclient = oidc_utils_OidcClient.createHttpClient();
            const res = yield httpclient
                .getJson(id_token_url)
                .catch(error => {
                throw new Error(`Failed to get ID Token. \n 
        Error Code : ${error.statusCode}\n 
        Error Message: ${error.message}`);
            });
            const id_token = (_a = res.result) === null || _a === void 0 ? void 0 : _a.value;
            if (!id_token) {
                throw new Error('Response json body do not have ID Token field');
            }
            return id_token;
        });
    }
    static getIDToken(audience) {
        return oidc_utils_awaiter(this, void 0, void 0, function* () {
            try {
                // New ID Token is requested from action service
                let id_token_url = oidc_utils_OidcClient.getIDTokenUrl();
                if (audience) {
                    const encodedAudience = encodeURIComponent(audience);
                    id_token_url = `${id_token_url}&audience=${encodedAudience}`;
                }
                debug(`ID token url is ${id_token_url}`);
                const id_token = yield oidc_utils_OidcClient.getCall(id_token_url);
                setSecret(id_token);
                return id_token;
            }
            catch (error) {
                throw new Error(`Error message: ${error.message}`);
            }
        });
    }
}
//# sourceMappingURL=oidc-utils.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/summary.js
var summary_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


const { access, appendFile, writeFile } = external_fs_namespaceObject.promises;
const SUMMARY_ENV_VAR = 'GITHUB_STEP_SUMMARY';
const SUMMARY_DOCS_URL = 'https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-job-summary';
class Summary {
    constructor() {
        this._buffer = '';
    }
    /**
     * Finds the summary file path from the environment, rejects if env var is not found or file does not exist
     * Also checks r/w permissions.
     *
     * @returns step summary file path
     */
    filePath() {
        return summary_awaiter(this, void 0, void 0, function* () {
            if (this._filePath) {
                return this._filePath;
            }
            const pathFromEnv = process.env[SUMMARY_ENV_VAR];
            if (!pathFromEnv) {
                throw new Error(`Unable to find environment variable for $${SUMMARY_ENV_VAR}. Check if your runtime environment supports job summaries.`);
            }
            try {
                yield access(pathFromEnv, external_fs_namespaceObject.constants.R_OK | external_fs_namespaceObject.constants.W_OK);
            }
            catch (_a) {
                throw new Error(`Unable to access summary file: '${pathFromEnv}'. Check if the file has correct read/write permissions.`);
            }
            this._filePath = pathFromEnv;
            return this._filePath;
        });
    }
    /**
     * Wraps content in an HTML tag, adding any HTML attributes
     *
     * @param {string} tag HTML tag to wrap
     * @param {string | null} content content within the tag
     * @param {[attribute: string]: string} attrs key-value list of HTML attributes to add
     *
     * @returns {string} content wrapped in HTML element
     */
    wrap(tag, content, attrs = {}) {
        const htmlAttrs = Object.entries(attrs)
            .map(([key, value]) => ` ${key}="${value}"`)
            .join('');
        if (!content) {
            return `<${tag}${htmlAttrs}>`;
        }
        return `<${tag}${htmlAttrs}>${content}</${tag}>`;
    }
    /**
     * Writes text in the buffer to the summary buffer file and empties buffer. Will append by default.
     *
     * @param {SummaryWriteOptions} [options] (optional) options for write operation
     *
     * @returns {Promise<Summary>} summary instance
     */
    write(options) {
        return summary_awaiter(this, void 0, void 0, function* () {
            const overwrite = !!(options === null || options === void 0 ? void 0 : options.overwrite);
            const filePath = yield this.filePath();
            const writeFunc = overwrite ? writeFile : appendFile;
            yield writeFunc(filePath, this._buffer, { encoding: 'utf8' });
            return this.emptyBuffer();
        });
    }
    /**
     * Clears the summary buffer and wipes the summary file
     *
     * @returns {Summary} summary instance
     */
    clear() {
        return summary_awaiter(this, void 0, void 0, function* () {
            return this.emptyBuffer().write({ overwrite: true });
        });
    }
    /**
     * Returns the current summary buffer as a string
     *
     * @returns {string} string of summary buffer
     */
    stringify() {
        return this._buffer;
    }
    /**
     * If the summary buffer is empty
     *
     * @returns {boolen} true if the buffer is empty
     */
    isEmptyBuffer() {
        return this._buffer.length === 0;
    }
    /**
     * Resets the summary buffer without writing to summary file
     *
     * @returns {Summary} summary instance
     */
    emptyBuffer() {
        this._buffer = '';
        return this;
    }
    /**
     * Adds raw text to the summary buffer
     *
     * @param {string} text content to add
     * @param {boolean} [addEOL=false] (optional) append an EOL to the raw text (default: false)
     *
     * @returns {Summary} summary instance
     */
    addRaw(text, addEOL = false) {
        this._buffer += text;
        return addEOL ? this.addEOL() : this;
    }
    /**
     * Adds the operating system-specific end-of-line marker to the buffer
     *
     * @returns {Summary} summary instance
     */
    addEOL() {
        return this.addRaw(external_os_namespaceObject.EOL);
    }
    /**
     * Adds an HTML codeblock to the summary buffer
     *
     * @param {string} code content to render within fenced code block
     * @param {string} lang (optional) language to syntax highlight code
     *
     * @returns {Summary} summary instance
     */
    addCodeBlock(code, lang) {
        const attrs = Object.assign({}, (lang && { lang }));
        const element = this.wrap('pre', this.wrap('code', code), attrs);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML list to the summary buffer
     *
     * @param {string[]} items list of items to render
     * @param {boolean} [ordered=false] (optional) if the rendered list should be ordered or not (default: false)
     *
     * @returns {Summary} summary instance
     */
    addList(items, ordered = false) {
        const tag = ordered ? 'ol' : 'ul';
        const listItems = items.map(item => this.wrap('li', item)).join('');
        const element = this.wrap(tag, listItems);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML table to the summary buffer
     *
     * @param {SummaryTableCell[]} rows table rows
     *
     * @returns {Summary} summary instance
     */
    addTable(rows) {
        const tableBody = rows
            .map(row => {
            const cells = row
                .map(cell => {
                if (typeof cell === 'string') {
                    return this.wrap('td', cell);
                }
                const { header, data, colspan, rowspan } = cell;
                const tag = header ? 'th' : 'td';
                const attrs = Object.assign(Object.assign({}, (colspan && { colspan })), (rowspan && { rowspan }));
                return this.wrap(tag, data, attrs);
            })
                .join('');
            return this.wrap('tr', cells);
        })
            .join('');
        const element = this.wrap('table', tableBody);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds a collapsable HTML details element to the summary buffer
     *
     * @param {string} label text for the closed state
     * @param {string} content collapsable content
     *
     * @returns {Summary} summary instance
     */
    addDetails(label, content) {
        const element = this.wrap('details', this.wrap('summary', label) + content);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML image tag to the summary buffer
     *
     * @param {string} src path to the image you to embed
     * @param {string} alt text description of the image
     * @param {SummaryImageOptions} options (optional) addition image attributes
     *
     * @returns {Summary} summary instance
     */
    addImage(src, alt, options) {
        const { width, height } = options || {};
        const attrs = Object.assign(Object.assign({}, (width && { width })), (height && { height }));
        const element = this.wrap('img', null, Object.assign({ src, alt }, attrs));
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML section heading element
     *
     * @param {string} text heading text
     * @param {number | string} [level=1] (optional) the heading level, default: 1
     *
     * @returns {Summary} summary instance
     */
    addHeading(text, level) {
        const tag = `h${level}`;
        const allowedTag = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].includes(tag)
            ? tag
            : 'h1';
        const element = this.wrap(allowedTag, text);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML thematic break (<hr>) to the summary buffer
     *
     * @returns {Summary} summary instance
     */
    addSeparator() {
        const element = this.wrap('hr', null);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML line break (<br>) to the summary buffer
     *
     * @returns {Summary} summary instance
     */
    addBreak() {
        const element = this.wrap('br', null);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML blockquote to the summary buffer
     *
     * @param {string} text quote text
     * @param {string} cite (optional) citation url
     *
     * @returns {Summary} summary instance
     */
    addQuote(text, cite) {
        const attrs = Object.assign({}, (cite && { cite }));
        const element = this.wrap('blockquote', text, attrs);
        return this.addRaw(element).addEOL();
    }
    /**
     * Adds an HTML anchor tag to the summary buffer
     *
     * @param {string} text link text/content
     * @param {string} href hyperlink
     *
     * @returns {Summary} summary instance
     */
    addLink(text, href) {
        const element = this.wrap('a', text, { href });
        return this.addRaw(element).addEOL();
    }
}
const _summary = new Summary();
/**
 * @deprecated use `core.summary`
 */
const markdownSummary = (/* unused pure expression or super */ null && (_summary));
const summary = _summary;
//# sourceMappingURL=summary.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/path-utils.js

/**
 * toPosixPath converts the given path to the posix form. On Windows, \\ will be
 * replaced with /.
 *
 * @param pth. Path to transform.
 * @return string Posix path.
 */
function toPosixPath(pth) {
    return pth.replace(/[\\]/g, '/');
}
/**
 * toWin32Path converts the given path to the win32 form. On Linux, / will be
 * replaced with \\.
 *
 * @param pth. Path to transform.
 * @return string Win32 path.
 */
function toWin32Path(pth) {
    return pth.replace(/[/]/g, '\\');
}
/**
 * toPlatformPath converts the given path to a platform-specific path. It does
 * this by replacing instances of / and \ with the platform-specific path
 * separator.
 *
 * @param pth The path to platformize.
 * @return string The platform-specific path.
 */
function toPlatformPath(pth) {
    return pth.replace(/[/\\]/g, path.sep);
}
//# sourceMappingURL=path-utils.js.map
;// CONCATENATED MODULE: external "string_decoder"
const external_string_decoder_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("string_decoder");
// EXTERNAL MODULE: external "events"
var external_events_ = __nccwpck_require__(434);
;// CONCATENATED MODULE: external "child_process"
const external_child_process_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("child_process");
// EXTERNAL MODULE: external "assert"
var external_assert_ = __nccwpck_require__(613);
;// CONCATENATED MODULE: ./node_modules/@actions/io/lib/io-util.js
var io_util_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


const { chmod, copyFile, lstat, mkdir, open: io_util_open, readdir, rename, rm, rmdir, stat, symlink, unlink } = external_fs_namespaceObject.promises;
// export const {open} = 'fs'
const IS_WINDOWS = process.platform === 'win32';
/**
 * Custom implementation of readlink to ensure Windows junctions
 * maintain trailing backslash for backward compatibility with Node.js < 24
 *
 * In Node.js 20, Windows junctions (directory symlinks) always returned paths
 * with trailing backslashes. Node.js 24 removed this behavior, which breaks
 * code that relied on this format for path operations.
 *
 * This implementation restores the Node 20 behavior by adding a trailing
 * backslash to all junction results on Windows.
 */
function readlink(fsPath) {
    return io_util_awaiter(this, void 0, void 0, function* () {
        const result = yield fs.promises.readlink(fsPath);
        // On Windows, restore Node 20 behavior: add trailing backslash to all results
        // since junctions on Windows are always directory links
        if (IS_WINDOWS && !result.endsWith('\\')) {
            return `${result}\\`;
        }
        return result;
    });
}
// See https://github.com/nodejs/node/blob/d0153aee367422d0858105abec186da4dff0a0c5/deps/uv/include/uv/win.h#L691
const UV_FS_O_EXLOCK = 0x10000000;
const READONLY = external_fs_namespaceObject.constants.O_RDONLY;
function exists(fsPath) {
    return io_util_awaiter(this, void 0, void 0, function* () {
        try {
            yield stat(fsPath);
        }
        catch (err) {
            if (err.code === 'ENOENT') {
                return false;
            }
            throw err;
        }
        return true;
    });
}
function isDirectory(fsPath_1) {
    return io_util_awaiter(this, arguments, void 0, function* (fsPath, useStat = false) {
        const stats = useStat ? yield stat(fsPath) : yield lstat(fsPath);
        return stats.isDirectory();
    });
}
/**
 * On OSX/Linux, true if path starts with '/'. On Windows, true for paths like:
 * \, \hello, \\hello\share, C:, and C:\hello (and corresponding alternate separator cases).
 */
function isRooted(p) {
    p = normalizeSeparators(p);
    if (!p) {
        throw new Error('isRooted() parameter "p" cannot be empty');
    }
    if (IS_WINDOWS) {
        return (p.startsWith('\\') || /^[A-Z]:/i.test(p) // e.g. \ or \hello or \\hello
        ); // e.g. C: or C:\hello
    }
    return p.startsWith('/');
}
/**
 * Best effort attempt to determine whether a file exists and is executable.
 * @param filePath    file path to check
 * @param extensions  additional file extensions to try
 * @return if file exists and is executable, returns the file path. otherwise empty string.
 */
function tryGetExecutablePath(filePath, extensions) {
    return io_util_awaiter(this, void 0, void 0, function* () {
        let stats = undefined;
        try {
            // test file exists
            stats = yield stat(filePath);
        }
        catch (err) {
            if (err.code !== 'ENOENT') {
                // eslint-disable-next-line no-console
                console.log(`Unexpected error attempting to determine if executable file exists '${filePath}': ${err}`);
            }
        }
        if (stats && stats.isFile()) {
            if (IS_WINDOWS) {
                // on Windows, test for valid extension
                const upperExt = external_path_namespaceObject.extname(filePath).toUpperCase();
                if (extensions.some(validExt => validExt.toUpperCase() === upperExt)) {
                    return filePath;
                }
            }
            else {
                if (isUnixExecutable(stats)) {
                    return filePath;
                }
            }
        }
        // try each extension
        const originalFilePath = filePath;
        for (const extension of extensions) {
            filePath = originalFilePath + extension;
            stats = undefined;
            try {
                stats = yield stat(filePath);
            }
            catch (err) {
                if (err.code !== 'ENOENT') {
                    // eslint-disable-next-line no-console
                    console.log(`Unexpected error attempting to determine if executable file exists '${filePath}': ${err}`);
                }
            }
            if (stats && stats.isFile()) {
                if (IS_WINDOWS) {
                    // preserve the case of the actual file (since an extension was appended)
                    try {
                        const directory = external_path_namespaceObject.dirname(filePath);
                        const upperName = external_path_namespaceObject.basename(filePath).toUpperCase();
                        for (const actualName of yield readdir(directory)) {
                            if (upperName === actualName.toUpperCase()) {
                                filePath = external_path_namespaceObject.join(directory, actualName);
                                break;
                            }
                        }
                    }
                    catch (err) {
                        // eslint-disable-next-line no-console
                        console.log(`Unexpected error attempting to determine the actual case of the file '${filePath}': ${err}`);
                    }
                    return filePath;
                }
                else {
                    if (isUnixExecutable(stats)) {
                        return filePath;
                    }
                }
            }
        }
        return '';
    });
}
function normalizeSeparators(p) {
    p = p || '';
    if (IS_WINDOWS) {
        // convert slashes on Windows
        p = p.replace(/\//g, '\\');
        // remove redundant slashes
        return p.replace(/\\\\+/g, '\\');
    }
    // remove redundant slashes
    return p.replace(/\/\/+/g, '/');
}
// on Mac/Linux, test the execute bit
//     R   W  X  R  W X R W X
//   256 128 64 32 16 8 4 2 1
function isUnixExecutable(stats) {
    return ((stats.mode & 1) > 0 ||
        ((stats.mode & 8) > 0 &&
            process.getgid !== undefined &&
            stats.gid === process.getgid()) ||
        ((stats.mode & 64) > 0 &&
            process.getuid !== undefined &&
            stats.uid === process.getuid()));
}
// Get the path of cmd.exe in windows
function getCmdPath() {
    var _a;
    return (_a = process.env['COMSPEC']) !== null && _a !== void 0 ? _a : `cmd.exe`;
}
//# sourceMappingURL=io-util.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/io/lib/io.js
var io_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};



/**
 * Copies a file or folder.
 * Based off of shelljs - https://github.com/shelljs/shelljs/blob/9237f66c52e5daa40458f94f9565e18e8132f5a6/src/cp.js
 *
 * @param     source    source path
 * @param     dest      destination path
 * @param     options   optional. See CopyOptions.
 */
function cp(source_1, dest_1) {
    return io_awaiter(this, arguments, void 0, function* (source, dest, options = {}) {
        const { force, recursive, copySourceDirectory } = readCopyOptions(options);
        const destStat = (yield ioUtil.exists(dest)) ? yield ioUtil.stat(dest) : null;
        // Dest is an existing file, but not forcing
        if (destStat && destStat.isFile() && !force) {
            return;
        }
        // If dest is an existing directory, should copy inside.
        const newDest = destStat && destStat.isDirectory() && copySourceDirectory
            ? path.join(dest, path.basename(source))
            : dest;
        if (!(yield ioUtil.exists(source))) {
            throw new Error(`no such file or directory: ${source}`);
        }
        const sourceStat = yield ioUtil.stat(source);
        if (sourceStat.isDirectory()) {
            if (!recursive) {
                throw new Error(`Failed to copy. ${source} is a directory, but tried to copy without recursive flag.`);
            }
            else {
                yield cpDirRecursive(source, newDest, 0, force);
            }
        }
        else {
            if (path.relative(source, newDest) === '') {
                // a file cannot be copied to itself
                throw new Error(`'${newDest}' and '${source}' are the same file`);
            }
            yield io_copyFile(source, newDest, force);
        }
    });
}
/**
 * Moves a path.
 *
 * @param     source    source path
 * @param     dest      destination path
 * @param     options   optional. See MoveOptions.
 */
function mv(source_1, dest_1) {
    return io_awaiter(this, arguments, void 0, function* (source, dest, options = {}) {
        if (yield ioUtil.exists(dest)) {
            let destExists = true;
            if (yield ioUtil.isDirectory(dest)) {
                // If dest is directory copy src into dest
                dest = path.join(dest, path.basename(source));
                destExists = yield ioUtil.exists(dest);
            }
            if (destExists) {
                if (options.force == null || options.force) {
                    yield rmRF(dest);
                }
                else {
                    throw new Error('Destination already exists');
                }
            }
        }
        yield mkdirP(path.dirname(dest));
        yield ioUtil.rename(source, dest);
    });
}
/**
 * Remove a path recursively with force
 *
 * @param inputPath path to remove
 */
function rmRF(inputPath) {
    return io_awaiter(this, void 0, void 0, function* () {
        if (ioUtil.IS_WINDOWS) {
            // Check for invalid characters
            // https://docs.microsoft.com/en-us/windows/win32/fileio/naming-a-file
            if (/[*"<>|]/.test(inputPath)) {
                throw new Error('File path must not contain `*`, `"`, `<`, `>` or `|` on Windows');
            }
        }
        try {
            // note if path does not exist, error is silent
            yield ioUtil.rm(inputPath, {
                force: true,
                maxRetries: 3,
                recursive: true,
                retryDelay: 300
            });
        }
        catch (err) {
            throw new Error(`File was unable to be removed ${err}`);
        }
    });
}
/**
 * Make a directory.  Creates the full path with folders in between
 * Will throw if it fails
 *
 * @param   fsPath        path to create
 * @returns Promise<void>
 */
function mkdirP(fsPath) {
    return io_awaiter(this, void 0, void 0, function* () {
        ok(fsPath, 'a path argument must be provided');
        yield ioUtil.mkdir(fsPath, { recursive: true });
    });
}
/**
 * Returns path of a tool had the tool actually been invoked.  Resolves via paths.
 * If you check and the tool does not exist, it will throw.
 *
 * @param     tool              name of the tool
 * @param     check             whether to check if tool exists
 * @returns   Promise<string>   path to tool
 */
function which(tool, check) {
    return io_awaiter(this, void 0, void 0, function* () {
        if (!tool) {
            throw new Error("parameter 'tool' is required");
        }
        // recursive when check=true
        if (check) {
            const result = yield which(tool, false);
            if (!result) {
                if (IS_WINDOWS) {
                    throw new Error(`Unable to locate executable file: ${tool}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable. Also verify the file has a valid extension for an executable file.`);
                }
                else {
                    throw new Error(`Unable to locate executable file: ${tool}. Please verify either the file path exists or the file can be found within a directory specified by the PATH environment variable. Also check the file mode to verify the file is executable.`);
                }
            }
            return result;
        }
        const matches = yield findInPath(tool);
        if (matches && matches.length > 0) {
            return matches[0];
        }
        return '';
    });
}
/**
 * Returns a list of all occurrences of the given tool on the system path.
 *
 * @returns   Promise<string[]>  the paths of the tool
 */
function findInPath(tool) {
    return io_awaiter(this, void 0, void 0, function* () {
        if (!tool) {
            throw new Error("parameter 'tool' is required");
        }
        // build the list of extensions to try
        const extensions = [];
        if (IS_WINDOWS && process.env['PATHEXT']) {
            for (const extension of process.env['PATHEXT'].split(external_path_namespaceObject.delimiter)) {
                if (extension) {
                    extensions.push(extension);
                }
            }
        }
        // if it's rooted, return it if exists. otherwise return empty.
        if (isRooted(tool)) {
            const filePath = yield tryGetExecutablePath(tool, extensions);
            if (filePath) {
                return [filePath];
            }
            return [];
        }
        // if any path separators, return empty
        if (tool.includes(external_path_namespaceObject.sep)) {
            return [];
        }
        // build the list of directories
        //
        // Note, technically "where" checks the current directory on Windows. From a toolkit perspective,
        // it feels like we should not do this. Checking the current directory seems like more of a use
        // case of a shell, and the which() function exposed by the toolkit should strive for consistency
        // across platforms.
        const directories = [];
        if (process.env.PATH) {
            for (const p of process.env.PATH.split(external_path_namespaceObject.delimiter)) {
                if (p) {
                    directories.push(p);
                }
            }
        }
        // find all matches
        const matches = [];
        for (const directory of directories) {
            const filePath = yield tryGetExecutablePath(external_path_namespaceObject.join(directory, tool), extensions);
            if (filePath) {
                matches.push(filePath);
            }
        }
        return matches;
    });
}
function readCopyOptions(options) {
    const force = options.force == null ? true : options.force;
    const recursive = Boolean(options.recursive);
    const copySourceDirectory = options.copySourceDirectory == null
        ? true
        : Boolean(options.copySourceDirectory);
    return { force, recursive, copySourceDirectory };
}
function cpDirRecursive(sourceDir, destDir, currentDepth, force) {
    return io_awaiter(this, void 0, void 0, function* () {
        // Ensure there is not a run away recursive copy
        if (currentDepth >= 255)
            return;
        currentDepth++;
        yield mkdirP(destDir);
        const files = yield ioUtil.readdir(sourceDir);
        for (const fileName of files) {
            const srcFile = `${sourceDir}/${fileName}`;
            const destFile = `${destDir}/${fileName}`;
            const srcFileStat = yield ioUtil.lstat(srcFile);
            if (srcFileStat.isDirectory()) {
                // Recurse
                yield cpDirRecursive(srcFile, destFile, currentDepth, force);
            }
            else {
                yield io_copyFile(srcFile, destFile, force);
            }
        }
        // Change the mode for the newly created directory
        yield ioUtil.chmod(destDir, (yield ioUtil.stat(sourceDir)).mode);
    });
}
// Buffered file copy
function io_copyFile(srcFile, destFile, force) {
    return io_awaiter(this, void 0, void 0, function* () {
        if ((yield ioUtil.lstat(srcFile)).isSymbolicLink()) {
            // unlink/re-link it
            try {
                yield ioUtil.lstat(destFile);
                yield ioUtil.unlink(destFile);
            }
            catch (e) {
                // Try to override file permission
                if (e.code === 'EPERM') {
                    yield ioUtil.chmod(destFile, '0666');
                    yield ioUtil.unlink(destFile);
                }
                // other errors = it doesn't exist, no work to do
            }
            // Copy over symlink
            const symlinkFull = yield ioUtil.readlink(srcFile);
            yield ioUtil.symlink(symlinkFull, destFile, ioUtil.IS_WINDOWS ? 'junction' : null);
        }
        else if (!(yield ioUtil.exists(destFile)) || force) {
            yield ioUtil.copyFile(srcFile, destFile);
        }
    });
}
//# sourceMappingURL=io.js.map
;// CONCATENATED MODULE: external "timers"
const external_timers_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("timers");
;// CONCATENATED MODULE: ./node_modules/@actions/exec/lib/toolrunner.js
var toolrunner_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};







/* eslint-disable @typescript-eslint/unbound-method */
const toolrunner_IS_WINDOWS = process.platform === 'win32';
/*
 * Class for running command line tools. Handles quoting and arg parsing in a platform agnostic way.
 */
class ToolRunner extends external_events_.EventEmitter {
    constructor(toolPath, args, options) {
        super();
        if (!toolPath) {
            throw new Error("Parameter 'toolPath' cannot be null or empty.");
        }
        this.toolPath = toolPath;
        this.args = args || [];
        this.options = options || {};
    }
    _debug(message) {
        if (this.options.listeners && this.options.listeners.debug) {
            this.options.listeners.debug(message);
        }
    }
    _getCommandString(options, noPrefix) {
        const toolPath = this._getSpawnFileName();
        const args = this._getSpawnArgs(options);
        let cmd = noPrefix ? '' : '[command]'; // omit prefix when piped to a second tool
        if (toolrunner_IS_WINDOWS) {
            // Windows + cmd file
            if (this._isCmdFile()) {
                cmd += toolPath;
                for (const a of args) {
                    cmd += ` ${a}`;
                }
            }
            // Windows + verbatim
            else if (options.windowsVerbatimArguments) {
                cmd += `"${toolPath}"`;
                for (const a of args) {
                    cmd += ` ${a}`;
                }
            }
            // Windows (regular)
            else {
                cmd += this._windowsQuoteCmdArg(toolPath);
                for (const a of args) {
                    cmd += ` ${this._windowsQuoteCmdArg(a)}`;
                }
            }
        }
        else {
            // OSX/Linux - this can likely be improved with some form of quoting.
            // creating processes on Unix is fundamentally different than Windows.
            // on Unix, execvp() takes an arg array.
            cmd += toolPath;
            for (const a of args) {
                cmd += ` ${a}`;
            }
        }
        return cmd;
    }
    _processLineBuffer(data, strBuffer, onLine) {
        try {
            let s = strBuffer + data.toString();
            let n = s.indexOf(external_os_namespaceObject.EOL);
            while (n > -1) {
                const line = s.substring(0, n);
                onLine(line);
                // the rest of the string ...
                s = s.substring(n + external_os_namespaceObject.EOL.length);
                n = s.indexOf(external_os_namespaceObject.EOL);
            }
            return s;
        }
        catch (err) {
            // streaming lines to console is best effort.  Don't fail a build.
            this._debug(`error processing line. Failed with error ${err}`);
            return '';
        }
    }
    _getSpawnFileName() {
        if (toolrunner_IS_WINDOWS) {
            if (this._isCmdFile()) {
                return process.env['COMSPEC'] || 'cmd.exe';
            }
        }
        return this.toolPath;
    }
    _getSpawnArgs(options) {
        if (toolrunner_IS_WINDOWS) {
            if (this._isCmdFile()) {
                let argline = `/D /S /C "${this._windowsQuoteCmdArg(this.toolPath)}`;
                for (const a of this.args) {
                    argline += ' ';
                    argline += options.windowsVerbatimArguments
                        ? a
                        : this._windowsQuoteCmdArg(a);
                }
                argline += '"';
                return [argline];
            }
        }
        return this.args;
    }
    _endsWith(str, end) {
        return str.endsWith(end);
    }
    _isCmdFile() {
        const upperToolPath = this.toolPath.toUpperCase();
        return (this._endsWith(upperToolPath, '.CMD') ||
            this._endsWith(upperToolPath, '.BAT'));
    }
    _windowsQuoteCmdArg(arg) {
        // for .exe, apply the normal quoting rules that libuv applies
        if (!this._isCmdFile()) {
            return this._uvQuoteCmdArg(arg);
        }
        // otherwise apply quoting rules specific to the cmd.exe command line parser.
        // the libuv rules are generic and are not designed specifically for cmd.exe
        // command line parser.
        //
        // for a detailed description of the cmd.exe command line parser, refer to
        // http://stackoverflow.com/questions/4094699/how-does-the-windows-command-interpreter-cmd-exe-parse-scripts/7970912#7970912
        // need quotes for empty arg
        if (!arg) {
            return '""';
        }
        // determine whether the arg needs to be quoted
        const cmdSpecialChars = [
            ' ',
            '\t',
            '&',
            '(',
            ')',
            '[',
            ']',
            '{',
            '}',
            '^',
            '=',
            ';',
            '!',
            "'",
            '+',
            ',',
            '`',
            '~',
            '|',
            '<',
            '>',
            '"'
        ];
        let needsQuotes = false;
        for (const char of arg) {
            if (cmdSpecialChars.some(x => x === char)) {
                needsQuotes = true;
                break;
            }
        }
        // short-circuit if quotes not needed
        if (!needsQuotes) {
            return arg;
        }
        // the following quoting rules are very similar to the rules that by libuv applies.
        //
        // 1) wrap the string in quotes
        //
        // 2) double-up quotes - i.e. " => ""
        //
        //    this is different from the libuv quoting rules. libuv replaces " with \", which unfortunately
        //    doesn't work well with a cmd.exe command line.
        //
        //    note, replacing " with "" also works well if the arg is passed to a downstream .NET console app.
        //    for example, the command line:
        //          foo.exe "myarg:""my val"""
        //    is parsed by a .NET console app into an arg array:
        //          [ "myarg:\"my val\"" ]
        //    which is the same end result when applying libuv quoting rules. although the actual
        //    command line from libuv quoting rules would look like:
        //          foo.exe "myarg:\"my val\""
        //
        // 3) double-up slashes that precede a quote,
        //    e.g.  hello \world    => "hello \world"
        //          hello\"world    => "hello\\""world"
        //          hello\\"world   => "hello\\\\""world"
        //          hello world\    => "hello world\\"
        //
        //    technically this is not required for a cmd.exe command line, or the batch argument parser.
        //    the reasons for including this as a .cmd quoting rule are:
        //
        //    a) this is optimized for the scenario where the argument is passed from the .cmd file to an
        //       external program. many programs (e.g. .NET console apps) rely on the slash-doubling rule.
        //
        //    b) it's what we've been doing previously (by deferring to node default behavior) and we
        //       haven't heard any complaints about that aspect.
        //
        // note, a weakness of the quoting rules chosen here, is that % is not escaped. in fact, % cannot be
        // escaped when used on the command line directly - even though within a .cmd file % can be escaped
        // by using %%.
        //
        // the saving grace is, on the command line, %var% is left as-is if var is not defined. this contrasts
        // the line parsing rules within a .cmd file, where if var is not defined it is replaced with nothing.
        //
        // one option that was explored was replacing % with ^% - i.e. %var% => ^%var^%. this hack would
        // often work, since it is unlikely that var^ would exist, and the ^ character is removed when the
        // variable is used. the problem, however, is that ^ is not removed when %* is used to pass the args
        // to an external program.
        //
        // an unexplored potential solution for the % escaping problem, is to create a wrapper .cmd file.
        // % can be escaped within a .cmd file.
        let reverse = '"';
        let quoteHit = true;
        for (let i = arg.length; i > 0; i--) {
            // walk the string in reverse
            reverse += arg[i - 1];
            if (quoteHit && arg[i - 1] === '\\') {
                reverse += '\\'; // double the slash
            }
            else if (arg[i - 1] === '"') {
                quoteHit = true;
                reverse += '"'; // double the quote
            }
            else {
                quoteHit = false;
            }
        }
        reverse += '"';
        return reverse.split('').reverse().join('');
    }
    _uvQuoteCmdArg(arg) {
        // Tool runner wraps child_process.spawn() and needs to apply the same quoting as
        // Node in certain cases where the undocumented spawn option windowsVerbatimArguments
        // is used.
        //
        // Since this function is a port of quote_cmd_arg from Node 4.x (technically, lib UV,
        // see https://github.com/nodejs/node/blob/v4.x/deps/uv/src/win/process.c for details),
        // pasting copyright notice from Node within this function:
        //
        //      Copyright Joyent, Inc. and other Node contributors. All rights reserved.
        //
        //      Permission is hereby granted, free of charge, to any person obtaining a copy
        //      of this software and associated documentation files (the "Software"), to
        //      deal in the Software without restriction, including without limitation the
        //      rights to use, copy, modify, merge, publish, distribute, sublicense, and/or
        //      sell copies of the Software, and to permit persons to whom the Software is
        //      furnished to do so, subject to the following conditions:
        //
        //      The above copyright notice and this permission notice shall be included in
        //      all copies or substantial portions of the Software.
        //
        //      THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
        //      IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
        //      FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
        //      AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
        //      LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
        //      FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
        //      IN THE SOFTWARE.
        if (!arg) {
            // Need double quotation for empty argument
            return '""';
        }
        if (!arg.includes(' ') && !arg.includes('\t') && !arg.includes('"')) {
            // No quotation needed
            return arg;
        }
        if (!arg.includes('"') && !arg.includes('\\')) {
            // No embedded double quotes or backslashes, so I can just wrap
            // quote marks around the whole thing.
            return `"${arg}"`;
        }
        // Expected input/output:
        //   input : hello"world
        //   output: "hello\"world"
        //   input : hello""world
        //   output: "hello\"\"world"
        //   input : hello\world
        //   output: hello\world
        //   input : hello\\world
        //   output: hello\\world
        //   input : hello\"world
        //   output: "hello\\\"world"
        //   input : hello\\"world
        //   output: "hello\\\\\"world"
        //   input : hello world\
        //   output: "hello world\\" - note the comment in libuv actually reads "hello world\"
        //                             but it appears the comment is wrong, it should be "hello world\\"
        let reverse = '"';
        let quoteHit = true;
        for (let i = arg.length; i > 0; i--) {
            // walk the string in reverse
            reverse += arg[i - 1];
            if (quoteHit && arg[i - 1] === '\\') {
                reverse += '\\';
            }
            else if (arg[i - 1] === '"') {
                quoteHit = true;
                reverse += '\\';
            }
            else {
                quoteHit = false;
            }
        }
        reverse += '"';
        return reverse.split('').reverse().join('');
    }
    _cloneExecOptions(options) {
        options = options || {};
        const result = {
            cwd: options.cwd || process.cwd(),
            env: options.env || process.env,
            silent: options.silent || false,
            windowsVerbatimArguments: options.windowsVerbatimArguments || false,
            failOnStdErr: options.failOnStdErr || false,
            ignoreReturnCode: options.ignoreReturnCode || false,
            delay: options.delay || 10000
        };
        result.outStream = options.outStream || process.stdout;
        result.errStream = options.errStream || process.stderr;
        return result;
    }
    _getSpawnOptions(options, toolPath) {
        options = options || {};
        const result = {};
        result.cwd = options.cwd;
        result.env = options.env;
        result['windowsVerbatimArguments'] =
            options.windowsVerbatimArguments || this._isCmdFile();
        if (options.windowsVerbatimArguments) {
            result.argv0 = `"${toolPath}"`;
        }
        return result;
    }
    /**
     * Exec a tool.
     * Output will be streamed to the live console.
     * Returns promise with return code
     *
     * @param     tool     path to tool to exec
     * @param     options  optional exec options.  See ExecOptions
     * @returns   number
     */
    exec() {
        return toolrunner_awaiter(this, void 0, void 0, function* () {
            // root the tool path if it is unrooted and contains relative pathing
            if (!isRooted(this.toolPath) &&
                (this.toolPath.includes('/') ||
                    (toolrunner_IS_WINDOWS && this.toolPath.includes('\\')))) {
                // prefer options.cwd if it is specified, however options.cwd may also need to be rooted
                this.toolPath = external_path_namespaceObject.resolve(process.cwd(), this.options.cwd || process.cwd(), this.toolPath);
            }
            // if the tool is only a file name, then resolve it from the PATH
            // otherwise verify it exists (add extension on Windows if necessary)
            this.toolPath = yield which(this.toolPath, true);
            return new Promise((resolve, reject) => toolrunner_awaiter(this, void 0, void 0, function* () {
                this._debug(`exec tool: ${this.toolPath}`);
                this._debug('arguments:');
                for (const arg of this.args) {
                    this._debug(`   ${arg}`);
                }
                const optionsNonNull = this._cloneExecOptions(this.options);
                if (!optionsNonNull.silent && optionsNonNull.outStream) {
                    optionsNonNull.outStream.write(this._getCommandString(optionsNonNull) + external_os_namespaceObject.EOL);
                }
                const state = new ExecState(optionsNonNull, this.toolPath);
                state.on('debug', (message) => {
                    this._debug(message);
                });
                if (this.options.cwd && !(yield exists(this.options.cwd))) {
                    return reject(new Error(`The cwd: ${this.options.cwd} does not exist!`));
                }
                const fileName = this._getSpawnFileName();
                const cp = external_child_process_namespaceObject.spawn(fileName, this._getSpawnArgs(optionsNonNull), this._getSpawnOptions(this.options, fileName));
                let stdbuffer = '';
                if (cp.stdout) {
                    cp.stdout.on('data', (data) => {
                        if (this.options.listeners && this.options.listeners.stdout) {
                            this.options.listeners.stdout(data);
                        }
                        if (!optionsNonNull.silent && optionsNonNull.outStream) {
                            optionsNonNull.outStream.write(data);
                        }
                        stdbuffer = this._processLineBuffer(data, stdbuffer, (line) => {
                            if (this.options.listeners && this.options.listeners.stdline) {
                                this.options.listeners.stdline(line);
                            }
                        });
                    });
                }
                let errbuffer = '';
                if (cp.stderr) {
                    cp.stderr.on('data', (data) => {
                        state.processStderr = true;
                        if (this.options.listeners && this.options.listeners.stderr) {
                            this.options.listeners.stderr(data);
                        }
                        if (!optionsNonNull.silent &&
                            optionsNonNull.errStream &&
                            optionsNonNull.outStream) {
                            const s = optionsNonNull.failOnStdErr
                                ? optionsNonNull.errStream
                                : optionsNonNull.outStream;
                            s.write(data);
                        }
                        errbuffer = this._processLineBuffer(data, errbuffer, (line) => {
                            if (this.options.listeners && this.options.listeners.errline) {
                                this.options.listeners.errline(line);
                            }
                        });
                    });
                }
                cp.on('error', (err) => {
                    state.processError = err.message;
                    state.processExited = true;
                    state.processClosed = true;
                    state.CheckComplete();
                });
                cp.on('exit', (code) => {
                    state.processExitCode = code;
                    state.processExited = true;
                    this._debug(`Exit code ${code} received from tool '${this.toolPath}'`);
                    state.CheckComplete();
                });
                cp.on('close', (code) => {
                    state.processExitCode = code;
                    state.processExited = true;
                    state.processClosed = true;
                    this._debug(`STDIO streams have closed for tool '${this.toolPath}'`);
                    state.CheckComplete();
                });
                state.on('done', (error, exitCode) => {
                    if (stdbuffer.length > 0) {
                        this.emit('stdline', stdbuffer);
                    }
                    if (errbuffer.length > 0) {
                        this.emit('errline', errbuffer);
                    }
                    cp.removeAllListeners();
                    if (error) {
                        reject(error);
                    }
                    else {
                        resolve(exitCode);
                    }
                });
                if (this.options.input) {
                    if (!cp.stdin) {
                        throw new Error('child process missing stdin');
                    }
                    cp.stdin.end(this.options.input);
                }
            }));
        });
    }
}
/**
 * Convert an arg string to an array of args. Handles escaping
 *
 * @param    argString   string of arguments
 * @returns  string[]    array of arguments
 */
function argStringToArray(argString) {
    const args = [];
    let inQuotes = false;
    let escaped = false;
    let arg = '';
    function append(c) {
        // we only escape double quotes.
        if (escaped && c !== '"') {
            arg += '\\';
        }
        arg += c;
        escaped = false;
    }
    for (let i = 0; i < argString.length; i++) {
        const c = argString.charAt(i);
        if (c === '"') {
            if (!escaped) {
                inQuotes = !inQuotes;
            }
            else {
                append(c);
            }
            continue;
        }
        if (c === '\\' && escaped) {
            append(c);
            continue;
        }
        if (c === '\\' && inQuotes) {
            escaped = true;
            continue;
        }
        if (c === ' ' && !inQuotes) {
            if (arg.length > 0) {
                args.push(arg);
                arg = '';
            }
            continue;
        }
        append(c);
    }
    if (arg.length > 0) {
        args.push(arg.trim());
    }
    return args;
}
class ExecState extends external_events_.EventEmitter {
    constructor(options, toolPath) {
        super();
        this.processClosed = false; // tracks whether the process has exited and stdio is closed
        this.processError = '';
        this.processExitCode = 0;
        this.processExited = false; // tracks whether the process has exited
        this.processStderr = false; // tracks whether stderr was written to
        this.delay = 10000; // 10 seconds
        this.done = false;
        this.timeout = null;
        if (!toolPath) {
            throw new Error('toolPath must not be empty');
        }
        this.options = options;
        this.toolPath = toolPath;
        if (options.delay) {
            this.delay = options.delay;
        }
    }
    CheckComplete() {
        if (this.done) {
            return;
        }
        if (this.processClosed) {
            this._setResult();
        }
        else if (this.processExited) {
            this.timeout = (0,external_timers_namespaceObject.setTimeout)(ExecState.HandleTimeout, this.delay, this);
        }
    }
    _debug(message) {
        this.emit('debug', message);
    }
    _setResult() {
        // determine whether there is an error
        let error;
        if (this.processExited) {
            if (this.processError) {
                error = new Error(`There was an error when attempting to execute the process '${this.toolPath}'. This may indicate the process failed to start. Error: ${this.processError}`);
            }
            else if (this.processExitCode !== 0 && !this.options.ignoreReturnCode) {
                error = new Error(`The process '${this.toolPath}' failed with exit code ${this.processExitCode}`);
            }
            else if (this.processStderr && this.options.failOnStdErr) {
                error = new Error(`The process '${this.toolPath}' failed because one or more lines were written to the STDERR stream`);
            }
        }
        // clear the timeout
        if (this.timeout) {
            clearTimeout(this.timeout);
            this.timeout = null;
        }
        this.done = true;
        this.emit('done', error, this.processExitCode);
    }
    static HandleTimeout(state) {
        if (state.done) {
            return;
        }
        if (!state.processClosed && state.processExited) {
            const message = `The STDIO streams did not close within ${state.delay / 1000} seconds of the exit event from process '${state.toolPath}'. This may indicate a child process inherited the STDIO streams and has not yet exited.`;
            state._debug(message);
        }
        state._setResult();
    }
}
//# sourceMappingURL=toolrunner.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/exec/lib/exec.js
var exec_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


/**
 * Exec a command.
 * Output will be streamed to the live console.
 * Returns promise with return code
 *
 * @param     commandLine        command to execute (can include additional args). Must be correctly escaped.
 * @param     args               optional arguments for tool. Escaping is handled by the lib.
 * @param     options            optional exec options.  See ExecOptions
 * @returns   Promise<number>    exit code
 */
function exec_exec(commandLine, args, options) {
    return exec_awaiter(this, void 0, void 0, function* () {
        const commandArgs = tr.argStringToArray(commandLine);
        if (commandArgs.length === 0) {
            throw new Error(`Parameter 'commandLine' cannot be null or empty.`);
        }
        // Path to tool to execute should be first arg
        const toolPath = commandArgs[0];
        args = commandArgs.slice(1).concat(args || []);
        const runner = new tr.ToolRunner(toolPath, args, options);
        return runner.exec();
    });
}
/**
 * Exec a command and get the output.
 * Output will be streamed to the live console.
 * Returns promise with the exit code and collected stdout and stderr
 *
 * @param     commandLine           command to execute (can include additional args). Must be correctly escaped.
 * @param     args                  optional arguments for tool. Escaping is handled by the lib.
 * @param     options               optional exec options.  See ExecOptions
 * @returns   Promise<ExecOutput>   exit code, stdout, and stderr
 */
function getExecOutput(commandLine, args, options) {
    return exec_awaiter(this, void 0, void 0, function* () {
        var _a, _b;
        let stdout = '';
        let stderr = '';
        //Using string decoder covers the case where a mult-byte character is split
        const stdoutDecoder = new StringDecoder('utf8');
        const stderrDecoder = new StringDecoder('utf8');
        const originalStdoutListener = (_a = options === null || options === void 0 ? void 0 : options.listeners) === null || _a === void 0 ? void 0 : _a.stdout;
        const originalStdErrListener = (_b = options === null || options === void 0 ? void 0 : options.listeners) === null || _b === void 0 ? void 0 : _b.stderr;
        const stdErrListener = (data) => {
            stderr += stderrDecoder.write(data);
            if (originalStdErrListener) {
                originalStdErrListener(data);
            }
        };
        const stdOutListener = (data) => {
            stdout += stdoutDecoder.write(data);
            if (originalStdoutListener) {
                originalStdoutListener(data);
            }
        };
        const listeners = Object.assign(Object.assign({}, options === null || options === void 0 ? void 0 : options.listeners), { stdout: stdOutListener, stderr: stdErrListener });
        const exitCode = yield exec_exec(commandLine, args, Object.assign(Object.assign({}, options), { listeners }));
        //flush any remaining characters
        stdout += stdoutDecoder.end();
        stderr += stderrDecoder.end();
        return {
            exitCode,
            stdout,
            stderr
        };
    });
}
//# sourceMappingURL=exec.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/platform.js
var platform_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};


const getWindowsInfo = () => platform_awaiter(void 0, void 0, void 0, function* () {
    const { stdout: version } = yield exec.getExecOutput('powershell -command "(Get-CimInstance -ClassName Win32_OperatingSystem).Version"', undefined, {
        silent: true
    });
    const { stdout: name } = yield exec.getExecOutput('powershell -command "(Get-CimInstance -ClassName Win32_OperatingSystem).Caption"', undefined, {
        silent: true
    });
    return {
        name: name.trim(),
        version: version.trim()
    };
});
const getMacOsInfo = () => platform_awaiter(void 0, void 0, void 0, function* () {
    var _a, _b, _c, _d;
    const { stdout } = yield exec.getExecOutput('sw_vers', undefined, {
        silent: true
    });
    const version = (_b = (_a = stdout.match(/ProductVersion:\s*(.+)/)) === null || _a === void 0 ? void 0 : _a[1]) !== null && _b !== void 0 ? _b : '';
    const name = (_d = (_c = stdout.match(/ProductName:\s*(.+)/)) === null || _c === void 0 ? void 0 : _c[1]) !== null && _d !== void 0 ? _d : '';
    return {
        name,
        version
    };
});
const getLinuxInfo = () => platform_awaiter(void 0, void 0, void 0, function* () {
    const { stdout } = yield exec.getExecOutput('lsb_release', ['-i', '-r', '-s'], {
        silent: true
    });
    const [name, version] = stdout.trim().split('\n');
    return {
        name,
        version
    };
});
const platform = external_os_namespaceObject.platform();
const arch = external_os_namespaceObject.arch();
const isWindows = platform === 'win32';
const isMacOS = platform === 'darwin';
const isLinux = platform === 'linux';
function getDetails() {
    return platform_awaiter(this, void 0, void 0, function* () {
        return Object.assign(Object.assign({}, (yield (isWindows
            ? getWindowsInfo()
            : isMacOS
                ? getMacOsInfo()
                : getLinuxInfo()))), { platform,
            arch,
            isWindows,
            isMacOS,
            isLinux });
    });
}
//# sourceMappingURL=platform.js.map
;// CONCATENATED MODULE: ./node_modules/@actions/core/lib/core.js
var core_awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};






/**
 * The code to exit an action
 */
var ExitCode;
(function (ExitCode) {
    /**
     * A code indicating that the action was successful
     */
    ExitCode[ExitCode["Success"] = 0] = "Success";
    /**
     * A code indicating that the action was a failure
     */
    ExitCode[ExitCode["Failure"] = 1] = "Failure";
})(ExitCode || (ExitCode = {}));
//-----------------------------------------------------------------------
// Variables
//-----------------------------------------------------------------------
/**
 * Sets env variable for this action and future actions in the job
 * @param name the name of the variable to set
 * @param val the value of the variable. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function exportVariable(name, val) {
    const convertedVal = toCommandValue(val);
    process.env[name] = convertedVal;
    const filePath = process.env['GITHUB_ENV'] || '';
    if (filePath) {
        return issueFileCommand('ENV', prepareKeyValueMessage(name, val));
    }
    issueCommand('set-env', { name }, convertedVal);
}
/**
 * Registers a secret which will get masked from logs
 *
 * @param secret - Value of the secret to be masked
 * @remarks
 * This function instructs the Actions runner to mask the specified value in any
 * logs produced during the workflow run. Once registered, the secret value will
 * be replaced with asterisks (***) whenever it appears in console output, logs,
 * or error messages.
 *
 * This is useful for protecting sensitive information such as:
 * - API keys
 * - Access tokens
 * - Authentication credentials
 * - URL parameters containing signatures (SAS tokens)
 *
 * Note that masking only affects future logs; any previous appearances of the
 * secret in logs before calling this function will remain unmasked.
 *
 * @example
 * ```typescript
 * // Register an API token as a secret
 * const apiToken = "abc123xyz456";
 * setSecret(apiToken);
 *
 * // Now any logs containing this value will show *** instead
 * console.log(`Using token: ${apiToken}`); // Outputs: "Using token: ***"
 * ```
 */
function core_setSecret(secret) {
    command_issueCommand('add-mask', {}, secret);
}
/**
 * Prepends inputPath to the PATH (for this action and future actions)
 * @param inputPath
 */
function addPath(inputPath) {
    const filePath = process.env['GITHUB_PATH'] || '';
    if (filePath) {
        issueFileCommand('PATH', inputPath);
    }
    else {
        issueCommand('add-path', {}, inputPath);
    }
    process.env['PATH'] = `${inputPath}${path.delimiter}${process.env['PATH']}`;
}
/**
 * Gets the value of an input.
 * Unless trimWhitespace is set to false in InputOptions, the value is also trimmed.
 * Returns an empty string if the value is not defined.
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   string
 */
function getInput(name, options) {
    const val = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '';
    if (options && options.required && !val) {
        throw new Error(`Input required and not supplied: ${name}`);
    }
    if (options && options.trimWhitespace === false) {
        return val;
    }
    return val.trim();
}
/**
 * Gets the values of an multiline input.  Each value is also trimmed.
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   string[]
 *
 */
function getMultilineInput(name, options) {
    const inputs = getInput(name, options)
        .split('\n')
        .filter(x => x !== '');
    if (options && options.trimWhitespace === false) {
        return inputs;
    }
    return inputs.map(input => input.trim());
}
/**
 * Gets the input value of the boolean type in the YAML 1.2 "core schema" specification.
 * Support boolean input list: `true | True | TRUE | false | False | FALSE` .
 * The return value is also in boolean type.
 * ref: https://yaml.org/spec/1.2/spec.html#id2804923
 *
 * @param     name     name of the input to get
 * @param     options  optional. See InputOptions.
 * @returns   boolean
 */
function getBooleanInput(name, options) {
    const trueValue = ['true', 'True', 'TRUE'];
    const falseValue = ['false', 'False', 'FALSE'];
    const val = getInput(name, options);
    if (trueValue.includes(val))
        return true;
    if (falseValue.includes(val))
        return false;
    throw new TypeError(`Input does not meet YAML 1.2 "Core Schema" specification: ${name}\n` +
        `Support boolean input list: \`true | True | TRUE | false | False | FALSE\``);
}
/**
 * Sets the value of an output.
 *
 * @param     name     name of the output to set
 * @param     value    value to store. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function setOutput(name, value) {
    const filePath = process.env['GITHUB_OUTPUT'] || '';
    if (filePath) {
        return file_command_issueFileCommand('OUTPUT', file_command_prepareKeyValueMessage(name, value));
    }
    process.stdout.write(external_os_namespaceObject.EOL);
    command_issueCommand('set-output', { name }, utils_toCommandValue(value));
}
/**
 * Enables or disables the echoing of commands into stdout for the rest of the step.
 * Echoing is disabled by default if ACTIONS_STEP_DEBUG is not set.
 *
 */
function setCommandEcho(enabled) {
    issue('echo', enabled ? 'on' : 'off');
}
//-----------------------------------------------------------------------
// Results
//-----------------------------------------------------------------------
/**
 * Sets the action status to failed.
 * When the action exits it will be with an exit code of 1
 * @param message add error issue message
 */
function setFailed(message) {
    process.exitCode = ExitCode.Failure;
    error(message);
}
//-----------------------------------------------------------------------
// Logging Commands
//-----------------------------------------------------------------------
/**
 * Gets whether Actions Step Debug is on or not
 */
function isDebug() {
    return process.env['RUNNER_DEBUG'] === '1';
}
/**
 * Writes debug message to user log
 * @param message debug message
 */
function core_debug(message) {
    command_issueCommand('debug', {}, message);
}
/**
 * Adds an error issue
 * @param message error issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function error(message, properties = {}) {
    command_issueCommand('error', toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Adds a warning issue
 * @param message warning issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function warning(message, properties = {}) {
    command_issueCommand('warning', toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Adds a notice issue
 * @param message notice issue message. Errors will be converted to string via toString()
 * @param properties optional properties to add to the annotation.
 */
function notice(message, properties = {}) {
    command_issueCommand('notice', toCommandProperties(properties), message instanceof Error ? message.toString() : message);
}
/**
 * Writes info to log with console.log.
 * @param message info message
 */
function info(message) {
    process.stdout.write(message + external_os_namespaceObject.EOL);
}
/**
 * Begin an output group.
 *
 * Output until the next `groupEnd` will be foldable in this group
 *
 * @param name The name of the output group
 */
function startGroup(name) {
    command_issue('group', name);
}
/**
 * End an output group.
 */
function endGroup() {
    command_issue('endgroup');
}
/**
 * Wrap an asynchronous function call in a group.
 *
 * Returns the same type as the function itself.
 *
 * @param name The name of the group
 * @param fn The function to wrap in the group
 */
function group(name, fn) {
    return core_awaiter(this, void 0, void 0, function* () {
        startGroup(name);
        let result;
        try {
            result = yield fn();
        }
        finally {
            endGroup();
        }
        return result;
    });
}
//-----------------------------------------------------------------------
// Wrapper action state
//-----------------------------------------------------------------------
/**
 * Saves state for current action, the state can only be retrieved by this action's post job execution.
 *
 * @param     name     name of the state to store
 * @param     value    value to store. Non-string values will be converted to a string via JSON.stringify
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function saveState(name, value) {
    const filePath = process.env['GITHUB_STATE'] || '';
    if (filePath) {
        return file_command_issueFileCommand('STATE', file_command_prepareKeyValueMessage(name, value));
    }
    command_issueCommand('save-state', { name }, utils_toCommandValue(value));
}
/**
 * Gets the value of an state set by this action's main execution.
 *
 * @param     name     name of the state to get
 * @returns   string
 */
function getState(name) {
    return process.env[`STATE_${name}`] || '';
}
function getIDToken(aud) {
    return core_awaiter(this, void 0, void 0, function* () {
        return yield OidcClient.getIDToken(aud);
    });
}
/**
 * Summary exports
 */

/**
 * @deprecated use core.summary
 */

/**
 * Path exports
 */

/**
 * Platform utilities exports
 */

//# sourceMappingURL=core.js.map
;// CONCATENATED MODULE: ./src/constants.ts
/**
 * Names shared between action.yml, main.ts and the tests. Keeping them in one place lets a test check
 * that action.yml, the README and the code never drift apart.
 */
/** Every input declared in action.yml, keyed by a camelCase alias. */
const INPUTS = {
    mode: 'mode',
    ephemeral: 'ephemeral',
    apiKey: 'api_key',
    projectId: 'project_id',
    apiHost: 'api_host',
    branchName: 'branch_name',
    parentBranch: 'parent_branch',
    branchType: 'branch_type',
    database: 'database',
    role: 'role',
    ssl: 'ssl',
    channelBinding: 'channel_binding',
    prisma: 'prisma',
    suspendTimeout: 'suspend_timeout',
    expiresIn: 'expires_in',
    expiresAt: 'expires_at',
    timeout: 'timeout',
    githubToken: 'github_token',
    comment: 'comment',
    dryRun: 'dry_run',
    cleanupPrefix: 'cleanup_prefix',
    cleanupMaxAge: 'cleanup_max_age',
    onBranchLimit: 'on_branch_limit',
    preserveUnderName: 'preserve_under_name',
    computeUnits: 'compute_units',
    maskingRules: 'masking_rules',
    maskingRulesFile: 'masking_rules_file',
    getAuthUrl: 'get_auth_url',
    getDataApiUrl: 'get_data_api_url',
    resetPassword: 'reset_password',
};
/** Every output declared in action.yml, keyed by a camelCase alias. */
const OUTPUTS = {
    branchId: 'branch_id',
    branchName: 'branch_name',
    created: 'created',
    recovered: 'recovered',
    dbUrl: 'db_url',
    dbUrlPooled: 'db_url_pooled',
    dbHost: 'db_host',
    dbHostPooled: 'db_host_pooled',
    password: 'password',
    role: 'role',
    database: 'database',
    endpointId: 'endpoint_id',
    expiresAt: 'expires_at',
    deleted: 'deleted',
    deletedBranches: 'deleted_branches',
    recoverableUntil: 'recoverable_until',
    staleBranches: 'stale_branches',
    skipped: 'skipped',
    computeUnits: 'compute_units',
    parentLsn: 'parent_lsn',
    parentTimestamp: 'parent_timestamp',
    schemaDiff: 'schema_diff',
    schemaChanged: 'schema_changed',
    anonymized: 'anonymized',
    maskedColumns: 'masked_columns',
    authUrl: 'auth_url',
    dataApiUrl: 'data_api_url',
    usage: 'usage',
    freed: 'freed',
};
/** Inputs whose values are secrets: never echo them in errors or logs. */
const SECRET_INPUTS = [INPUTS.apiKey, INPUTS.githubToken];
/** Neon API v2 base URL, without a trailing slash. */
const DEFAULT_API_HOST = 'https://console.neon.tech/api/v2';
/** Neon caps a branch's expires_at at 30 days from now. */
const MAX_EXPIRY_MS = 30 * 24 * 60 * 60 * 1000;
/** The default expiry of an ephemeral branch: Neon deletes it by itself if no post step ever runs. */
const EPHEMERAL_DEFAULT_EXPIRES_IN = '2h';
/** Postgres truncates identifiers at 63 bytes (NAMEDATALEN - 1); branch names are kept under the same bound. */
const MAX_NAME_BYTES = 63;

;// CONCATENATED MODULE: ./src/inputs/defaults.ts
// The allowed values and the defaults of the inputs.

const MODES = [
    'create',
    'reset',
    'delete',
    'cleanup',
    'schema-diff',
    'recover',
    'auto',
];
const SSL_MODES = ['require', 'verify-ca', 'verify-full', 'omit'];
const BRANCH_TYPES = ['default', 'schema-only'];
const ON_BRANCH_LIMIT = ['fail', 'make-room'];
// Defaults mirror action.yml, so calling getInputs with only the required inputs (as tests and local runs do)
// behaves exactly like the runner, which fills in action.yml defaults itself.
const DEFAULTS = {
    apiHost: DEFAULT_API_HOST,
    branchType: 'default',
    database: 'neondb',
    role: 'neondb_owner',
    ssl: 'require',
    channelBinding: 'false',
    prisma: 'false',
    suspendTimeout: '0',
    expiresIn: '14d',
    timeout: '300',
    comment: 'true',
    dryRun: 'false',
    cleanupPrefix: 'preview/',
    cleanupMaxAge: '7d',
    onBranchLimit: 'fail',
    getAuthUrl: 'false',
    getDataApiUrl: 'false',
    resetPassword: 'false',
};

;// CONCATENATED MODULE: ./src/inputs/cleanup.ts
// What the sweep (and create's make-room) may delete: `cleanup_prefix`, `cleanup_max_age`,
// `on_branch_limit`.


function readCleanup(r) {
    // An empty prefix falls back to the default rather than meaning "every branch": cleanup deletes branches, and
    // sweeping a whole project because a variable expanded to '' must not be possible.
    const cleanupPrefix = r.optionalName(INPUTS.cleanupPrefix) ?? DEFAULTS.cleanupPrefix;
    const cleanupMaxAgeMs = r.duration(INPUTS.cleanupMaxAge, r.get(INPUTS.cleanupMaxAge) || DEFAULTS.cleanupMaxAge);
    const onBranchLimit = r.oneOf(INPUTS.onBranchLimit, ON_BRANCH_LIMIT, DEFAULTS.onBranchLimit);
    return { cleanupPrefix, cleanupMaxAgeMs, onBranchLimit };
}

;// CONCATENATED MODULE: ./src/neon/compute-units.ts
/**
 * Compute sizes, as Neon documents them (shared/neon-api/BEHAVIOUR.md, "Compute sizes"): sizes are
 * 0.25, 0.5 and whole numbers of compute units. A fixed size (min = max) goes up to 56 CU; an
 * autoscaling range (min < max) lies within 0.25 to 16 CU and spans at most 8 CU. What a plan allows
 * (the free plan's 2 CU, which whole numbers above 16 are offered, the minimum Neon wants for a
 * maximum above 10) is Neon's to refuse: its message is passed on.
 *
 * Pure: no I/O.
 */
const MIN_CU = 0.25;
const MAX_FIXED_CU = 56;
const MAX_AUTOSCALING_CU = 16;
const MAX_AUTOSCALING_SPAN_CU = 8;
const NUMBER_RE = /^\d+(?:\.\d+)?$/;
/** What compute_units accepts, for messages. */
const COMPUTE_UNITS_FORMS = `one size (0.25, 0.5 or a whole number up to ${MAX_FIXED_CU}, e.g. 1) or an autoscaling range ` +
    `min-max within ${MIN_CU} to ${MAX_AUTOSCALING_CU} spanning at most ${MAX_AUTOSCALING_SPAN_CU} (e.g. 0.25-2)`;
/**
 * Parses `2` or `0.25-4` (spaces around the dash allowed). Throws an Error whose message says what
 * is wrong and what is allowed; the caller names the input.
 */
function parseComputeUnits(text) {
    const parts = text.split('-').map((s) => s.trim());
    if (parts.length > 2 || parts.some((p) => !NUMBER_RE.test(p))) {
        throw new Error(`Expected ${COMPUTE_UNITS_FORMS}.`);
    }
    const [min, max] = parts.map(Number);
    for (const n of [min, max ?? min]) {
        if (!isOfferedSize(n)) {
            throw new Error(`${n} CU is not a size Neon offers: sizes are 0.25, 0.5 and whole numbers.`);
        }
    }
    if (max === undefined || max === min) {
        if (min > MAX_FIXED_CU)
            throw new Error(`A fixed size is at most ${MAX_FIXED_CU} CU.`);
        return { min, max: min };
    }
    if (min > max)
        throw new Error(`The minimum (${min}) is above the maximum (${max}); write min-max.`);
    if (max > MAX_AUTOSCALING_CU) {
        throw new Error(`Autoscaling goes up to ${MAX_AUTOSCALING_CU} CU; above that only a fixed size (one number) is possible.`);
    }
    if (max - min > MAX_AUTOSCALING_SPAN_CU) {
        throw new Error(`An autoscaling range spans at most ${MAX_AUTOSCALING_SPAN_CU} CU; ${min}-${max} spans ${max - min}.`);
    }
    return { min, max };
}
function isOfferedSize(n) {
    return n === 0.25 || n === 0.5 || (Number.isInteger(n) && n >= 1);
}
/** `1` for a fixed size, `0.25-2` for a range: the form compute_units takes, so an output can be fed back. */
function formatComputeUnits(cu) {
    return cu.min === cu.max ? String(cu.min) : `${cu.min}-${cu.max}`;
}
/** For people: `1 CU` or `0.25–2 CU (autoscaling)`. */
function describeComputeUnits(cu) {
    return cu.min === cu.max ? `${cu.min} CU` : `${cu.min}–${cu.max} CU (autoscaling)`;
}

;// CONCATENATED MODULE: ./src/inputs/compute.ts
// The compute: `suspend_timeout` and `compute_units`.



const MAX_SUSPEND_TIMEOUT = 604_800;
/** Seconds; 0 = Neon's default, -1 = never suspend. */
function readSuspendTimeout(r) {
    return r.integer(INPUTS.suspendTimeout, DEFAULTS.suspendTimeout, -1, MAX_SUSPEND_TIMEOUT, 'seconds (0 = Neon default, -1 = never suspend)');
}
/** The size of the read-write compute; undefined for Neon's (the project's) default. */
function readComputeUnits(r) {
    const text = r.get(INPUTS.computeUnits);
    if (text === '')
        return undefined;
    try {
        return parseComputeUnits(text);
    }
    catch (err) {
        return r.invalid(INPUTS.computeUnits, text, err.message);
    }
}

;// CONCATENATED MODULE: ./src/inputs/connection.ts
// How the connection strings are written: `database`, `role`, `ssl`, `channel_binding`, `prisma`.


function readConnection(r) {
    const database = r.identifier(INPUTS.database, DEFAULTS.database);
    const role = r.identifier(INPUTS.role, DEFAULTS.role);
    const ssl = r.oneOf(INPUTS.ssl, SSL_MODES, DEFAULTS.ssl);
    const channelBinding = r.bool(INPUTS.channelBinding, DEFAULTS.channelBinding);
    const prisma = r.bool(INPUTS.prisma, DEFAULTS.prisma);
    return { database, role, ssl, channelBinding, prisma };
}

;// CONCATENATED MODULE: ./src/util/duration.ts
/**
 * Durations as users write them in workflow inputs (`90m`, `12h`, `7d`, `2w`), converted to milliseconds.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const UNIT_MS = { s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK };
// One integer and one unit, nothing else: compound forms ('1d12h') and decimals ('1.5h') are rejected so that
// there is exactly one way to read every accepted value.
const DURATION_RE = /^(\d+)([a-z])$/i;
/**
 * Parses `<int><unit>` (units s, m, h, d, w; case-insensitive; surrounding whitespace ignored) into milliseconds.
 *
 * @throws Error (plain, so the caller can wrap it with the input's name) when the text is empty, has no unit or an
 *   unknown one, is zero, negative, fractional, or too large to represent exactly.
 */
function parseDuration(text) {
    const trimmed = text.trim();
    if (trimmed === '')
        throw new Error('Expected a duration such as 90m, 12h, 7d or 2w; got an empty value.');
    const match = DURATION_RE.exec(trimmed);
    const digits = match?.[1];
    const unit = match?.[2]?.toLowerCase();
    if (digits === undefined || unit === undefined) {
        throw new Error(`Expected a duration: a whole number followed by one unit (s, m, h, d, w), such as 90m, 12h, 7d or 2w.`);
    }
    const unitMs = UNIT_MS[unit];
    if (unitMs === undefined) {
        throw new Error(`Unknown duration unit '${unit}'. Expected one of: s, m, h, d, w.`);
    }
    const count = Number(digits);
    if (count === 0)
        throw new Error('A duration must be greater than zero.');
    const ms = count * unitMs;
    // Beyond 2^53 the millisecond count is no longer exact, and any such value is nonsense for this action anyway.
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(ms))
        throw new Error('The duration is too large.');
    return ms;
}
const FORMAT_UNITS = [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
];
// Below this count a whole number of one unit reads better than two parts ('90m' rather than '1h 30m'); above
// it the count stops being readable ('97199s').
const MAX_SINGLE_UNIT_COUNT = 100;
/**
 * Short human form for logs.
 *
 * A value that is a whole number of one unit, fewer than 100 of them, is written in the largest such unit, the
 * way a user would type it (and {@link parseDuration} reads it back): `14d`, `36h`, `90m`, `45s`. Anything else
 * (typically a remaining time computed from clocks) shows its two most significant parts, truncated: `1d 2h`,
 * `5m 3s`. Weeks are never used (`14d`, not `2w`), sub-second values are shown as `ms`, and negative values get
 * a leading `-`.
 */
function formatDuration(ms) {
    if (!Number.isFinite(ms))
        return String(ms);
    if (ms < 0)
        return `-${formatDuration(-ms)}`;
    const whole = Math.floor(ms);
    if (whole < SECOND)
        return whole === 0 ? '0s' : `${whole}ms`;
    for (const [unit, size] of FORMAT_UNITS) {
        if (whole % size === 0 && whole / size < MAX_SINGLE_UNIT_COUNT)
            return `${whole / size}${unit}`;
    }
    const parts = [];
    let rest = whole;
    for (const [unit, size] of FORMAT_UNITS) {
        const n = Math.floor(rest / size);
        rest -= n * size;
        if (n > 0 || parts.length > 0)
            parts.push([n, unit]);
        if (parts.length === 2)
            break;
    }
    // A zero second part ('1d 0h') says nothing the first part does not.
    return parts
        .filter(([n], i) => i === 0 || n > 0)
        .map(([n, unit]) => `${n}${unit}`)
        .join(' ');
}

;// CONCATENATED MODULE: ./src/inputs/expiry.ts
// `expires_in` and `expires_at`: when a created branch expires (Neon's `expires_at`, at most 30 days ahead).



// RFC 3339 date-time; the zone is mandatory because a zoneless time would depend on the runner's TZ.
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
/**
 * The expiry: `expires_at` when given, else `expires_in` (14 days by default, 2 hours for an
 * ephemeral branch, or `never`). `expires_in` is validated even when `expires_at` overrides it: a
 * bad value is still a mistake worth reporting.
 */
function readExpiry(r, ephemeral, now) {
    const expiresInText = r.get(INPUTS.expiresIn) || (ephemeral ? EPHEMERAL_DEFAULT_EXPIRES_IN : DEFAULTS.expiresIn);
    let expiry;
    if (expiresInText.toLowerCase() === 'never') {
        expiry = { kind: 'never' };
    }
    else {
        const ms = r.duration(INPUTS.expiresIn, expiresInText);
        if (ms > MAX_EXPIRY_MS) {
            r.invalid(INPUTS.expiresIn, expiresInText, `Neon branches expire at most ${formatDuration(MAX_EXPIRY_MS)} ahead; use a shorter duration or 'never'.`);
        }
        expiry = { kind: 'in', ms };
    }
    const expiresAtText = r.get(INPUTS.expiresAt);
    return expiresAtText === '' ? expiry : readExpiresAt(r, expiresAtText, now());
}
function readExpiresAt(r, text, current) {
    const at = parseRfc3339(text);
    if (at === null) {
        return r.invalid(INPUTS.expiresAt, text, 'Expected an RFC 3339 timestamp with a time zone, e.g. 2030-01-31T18:00:00Z or 2030-01-31T18:00:00+02:00.');
    }
    if (at.getTime() <= current.getTime()) {
        r.invalid(INPUTS.expiresAt, text, `It must be in the future (now is ${isoSeconds(current)}).`);
    }
    const latest = new Date(current.getTime() + MAX_EXPIRY_MS);
    if (at.getTime() > latest.getTime()) {
        r.invalid(INPUTS.expiresAt, text, `Neon branches expire at most ${formatDuration(MAX_EXPIRY_MS)} ahead, i.e. no later than ${isoSeconds(latest)}.`);
    }
    return { kind: 'at', at };
}
/** Expiry → absolute ISO timestamp (no milliseconds, 'Z'), or null for never. */
function expiryTimestamp(e, now) {
    switch (e.kind) {
        case 'never':
            return null;
        case 'in':
            return isoSeconds(new Date(now.getTime() + e.ms));
        case 'at':
            return isoSeconds(e.at);
    }
}
// Milliseconds are dropped by truncation, never rounding up, so a value validated as "at most 30 days ahead"
// stays within Neon's limit.
function isoSeconds(d) {
    return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
/** Parses an RFC 3339 date-time with an explicit zone; null when malformed or out of range (e.g. 2030-02-30). */
function parseRfc3339(text) {
    const m = RFC3339_RE.exec(text);
    if (m === null)
        return null;
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
    const fraction = m[7] ?? '';
    const sign = m[9] === '-' ? -1 : 1;
    const offsetHours = Number(m[10] ?? 0);
    const offsetMinutes = Number(m[11] ?? 0);
    if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59)
        return null;
    if (offsetHours > 23 || offsetMinutes > 59)
        return null;
    const local = Date.UTC(year, month - 1, day, hour, minute, second);
    // Date.UTC rolls 2030-02-30 over into March; a changed day means the date does not exist.
    if (new Date(local).getUTCDate() !== day)
        return null;
    const ms = fraction === '' ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
    return new Date(local + ms - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: external "node:path"
const external_node_path_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:path");
;// CONCATENATED MODULE: ./src/masking/json-strict.ts
/**
 * JSON read strictly, for the masking rules. Pure, and linear in the text.
 *
 * `JSON.parse` alone will not do: it keeps the last of two equal keys (`"column": "email", …,
 * "column": "nickname"` masks only the nickname, silently), and its message quotes a snippet of
 * the text (masking rules are `x-sensitive` in Neon's API description, and the message would reach
 * the log and the summary). So the text is first scanned here, one pass, by the grammar of RFC 8259:
 * the first error is reported by its line and column, computed here, with what was expected; a
 * key given twice in one object is reported by its line and name. Only then does `JSON.parse`
 * build the value, from text known to be valid.
 */
/** Invalid JSON, or a key given twice; the message quotes nothing of the text but a duplicate key. */
class StrictJsonError extends Error {
    line;
    column;
    constructor(line, column, what) {
        super(`line ${line}, column ${column}: ${what}`);
        this.line = line;
        this.column = column;
        this.name = 'StrictJsonError';
    }
}
/** The longest key quoted in a message (keys are field names; a longer one is cut). */
const MAX_KEY_SHOWN = 40;
/** Parses `text` as JSON, refusing duplicate keys; throws StrictJsonError. */
function parseStrictJson(text) {
    new Scanner(text).document();
    return JSON.parse(text);
}
class Scanner {
    s;
    i = 0;
    constructor(s) {
        this.s = s;
    }
    document() {
        this.blank();
        this.value(0);
        this.blank();
        if (this.i < this.s.length)
            this.fail('expected the end of the text after the value');
    }
    /** Nesting is bounded: the rules are a list of flat objects, and recursion must not overflow. */
    value(depth) {
        if (depth > 64)
            this.fail('the value is nested more than 64 levels deep');
        const c = this.s[this.i];
        if (c === '{')
            this.object(depth);
        else if (c === '[')
            this.array(depth);
        else if (c === '"')
            this.string();
        else if (c === '-' || (c !== undefined && c >= '0' && c <= '9'))
            this.number();
        else if (!this.word('true') && !this.word('false') && !this.word('null'))
            this.fail(c === undefined ? 'the text ends where a value was expected' : 'expected a value');
    }
    object(depth) {
        this.i++;
        const keys = new Set();
        this.blank();
        if (this.s[this.i] === '}')
            return void this.i++;
        for (;;) {
            if (this.s[this.i] !== '"')
                this.fail('expected a key in double quotes');
            const start = this.i;
            this.string();
            const key = JSON.parse(this.s.slice(start, this.i));
            if (keys.has(key)) {
                const shown = key.length > MAX_KEY_SHOWN ? `${key.slice(0, MAX_KEY_SHOWN)}…` : key;
                const at = this.position(start);
                throw new StrictJsonError(at.line, at.column, 
                // eslint-disable-next-line no-control-regex
                `the key '${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}' is given twice in one object`);
            }
            keys.add(key);
            this.blank();
            this.expect(':', "expected ':' after the key");
            this.blank();
            this.value(depth + 1);
            this.blank();
            if (this.s[this.i] === '}')
                return void this.i++;
            this.expect(',', "expected ',' or '}'");
            this.blank();
        }
    }
    array(depth) {
        this.i++;
        this.blank();
        if (this.s[this.i] === ']')
            return void this.i++;
        for (;;) {
            this.value(depth + 1);
            this.blank();
            if (this.s[this.i] === ']')
                return void this.i++;
            this.expect(',', "expected ',' or ']'");
            this.blank();
        }
    }
    string() {
        const s = this.s;
        this.i++;
        for (;;) {
            const c = s[this.i];
            if (c === undefined || c === '\n' || c === '\r')
                this.fail('a string is not closed on its line');
            if (c === '"')
                return void this.i++;
            if (c < ' ')
                this.fail('a control character inside a string (escape it)');
            if (c === '\\') {
                const e = s[this.i + 1] ?? '';
                if ('"\\/bfnrt'.includes(e) && e !== '')
                    this.i += 2;
                else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(this.i + 2, this.i + 6)))
                    this.i += 6;
                else
                    this.fail('a bad escape in a string');
            }
            else
                this.i++;
        }
    }
    number() {
        const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
        m.lastIndex = this.i;
        if (!m.exec(this.s))
            this.fail('a malformed number');
        this.i = m.lastIndex;
    }
    word(w) {
        if (!this.s.startsWith(w, this.i))
            return false;
        this.i += w.length;
        return true;
    }
    expect(c, what) {
        if (this.s[this.i] !== c)
            this.fail(what);
        this.i++;
    }
    blank() {
        const s = this.s;
        while (s[this.i] === ' ' || s[this.i] === '\t' || s[this.i] === '\n' || s[this.i] === '\r')
            this.i++;
    }
    /** Line and column (1-based, in characters) of the scan's position; counted at failure only. */
    position(at = this.i) {
        let line = 1;
        let from = 0;
        for (let k = 0; k < at; k++) {
            if (this.s[k] === '\n' || (this.s[k] === '\r' && this.s[k + 1] !== '\n')) {
                line++;
                from = k + 1;
            }
        }
        return { line, column: at - from + 1 };
    }
    fail(what) {
        const { line, column } = this.position();
        throw new StrictJsonError(line, column, what);
    }
}

;// CONCATENATED MODULE: ./src/masking/yaml-subset.ts
/**
 * The YAML that masking rules are written in, and nothing more: a block sequence of block mappings
 * whose values are scalars on one line (plain, 'single-' or "double-quoted"), with comments.
 *
 * Why not a YAML library: the one the tests use (`yaml`) would add about 290 KB to dist/index.js
 * (643 KB today) for a list of flat records. Why not a lax parser: a YAML document misread is a
 * column left unmasked. So everything outside the subset (flow collections, anchors, aliases,
 * tags, block scalars, multi-line scalars, nested values) is refused with the line it is on and a
 * pointer to JSON, never guessed at; and what is accepted reads exactly as YAML 1.2 reads it
 * (test/unit/yaml-subset.test.ts checks that against the `yaml` library): a plain scalar that the
 * core schema resolves to null, a boolean or a number comes back as one, so the caller can say
 * "quote it" instead of silently turning `0.50` into `0.5`.
 */
/** Malformed or unsupported YAML; the message names the line and never quotes its text. */
class YamlSubsetError extends Error {
    line;
    constructor(line, what) {
        super(`line ${line}: ${what}`);
        this.line = line;
        this.name = 'YamlSubsetError';
    }
}
const JSON_HINT = 'write the rules as a JSON list instead, or as block-style YAML (`- table: …` lines)';
const KEY_RE = /^(?:[A-Za-z_][A-Za-z0-9_.-]*|'(?:[^']|'')*'|"(?:[^"\\]|\\.)*")$/;
/** Parses `text` as a YAML list (the subset above); throws YamlSubsetError. */
function parseYamlList(text) {
    const lines = significantLines(text);
    if (lines.length === 0)
        return [];
    const first = lines[0];
    if (!isItemStart(first.text)) {
        throw new YamlSubsetError(first.no, `expected a list of rules, each starting with '- '`);
    }
    const indent = first.indent;
    const items = [];
    let i = 0;
    while (i < lines.length) {
        const line = lines[i];
        if (line.indent !== indent || !isItemStart(line.text)) {
            throw new YamlSubsetError(line.no, line.indent > indent
                ? 'this line continues a value, which is not supported (values are one line each): ' + JSON_HINT
                : `expected '- ' at the indentation of the list (${indent} spaces)`);
        }
        const rest = line.text.slice(1).replace(/^ +/, '');
        const map = new Map();
        let fieldIndent;
        if (rest !== '') {
            if (rest.startsWith('-'))
                throw new YamlSubsetError(line.no, `a list inside a list is not supported`);
            fieldIndent = line.indent + (line.text.length - rest.length);
            addField(map, rest, line);
        }
        i++;
        while (i < lines.length && lines[i].indent > indent) {
            const field = lines[i];
            fieldIndent ??= field.indent;
            if (field.indent !== fieldIndent) {
                throw new YamlSubsetError(field.no, `expected a field at the indentation of the rule's first field (${fieldIndent} spaces); ` +
                    `nested values and multi-line values are not supported: ${JSON_HINT}`);
            }
            if (isItemStart(field.text))
                throw new YamlSubsetError(field.no, `a list inside a rule is not supported`);
            addField(map, field.text, field);
            i++;
        }
        items.push({
            value: rest === '' && fieldIndent === undefined ? null : Object.fromEntries(map),
            line: line.no,
        });
    }
    return items;
}
function isItemStart(text) {
    return text === '-' || text.startsWith('- ');
}
/**
 * The longest line read. The rules are the pull request's text: a cap keeps every message about a
 * line short and every line's work small (a rule is a few words; an expression is at most 10,000
 * characters, rules.ts).
 */
const MAX_LINE_CHARS = 16_384;
/**
 * The lines that hold something: indentation measured, comments and blank lines dropped. Linear in
 * the text: every line is scanned once, left to right (no regular expression that could backtrack
 * over a run of spaces or quotes).
 */
function significantLines(text) {
    const out = [];
    const raw = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
    raw.forEach((full, idx) => {
        const no = idx + 1;
        if (full.length > MAX_LINE_CHARS) {
            throw new YamlSubsetError(no, `the line is longer than ${MAX_LINE_CHARS.toLocaleString('en-US')} characters (a rule's fields go on lines of their own)`);
        }
        let start = 0;
        while (full[start] === ' ')
            start++;
        const lead = full.slice(0, start);
        let body = full.slice(start);
        if (body.startsWith('\t'))
            throw new YamlSubsetError(no, 'tabs cannot indent YAML; use spaces');
        const uncommented = stripComment(body, no);
        const commented = uncommented.length < body.length;
        body = trimBlanksEnd(uncommented);
        if (body === '')
            return;
        if (out.length === 0 && lead === '' && (body === '---' || body.startsWith('--- '))) {
            if (body !== '---')
                throw new YamlSubsetError(no, `content after '---' is not supported: ${JSON_HINT}`);
            return;
        }
        if (lead === '' && (body === '---' || body === '...' || body.startsWith('%'))) {
            throw new YamlSubsetError(no, `more than one YAML document, or a directive, is not supported`);
        }
        out.push({ no, indent: lead.length, text: body, commented });
    });
    return out;
}
/** `s` without trailing spaces and tabs (a loop: `/[ \t]+$/` is quadratic on a long run of spaces). */
function trimBlanksEnd(s) {
    let end = s.length;
    while (end > 0 && (s[end - 1] === ' ' || s[end - 1] === '\t'))
        end--;
    return s.slice(0, end);
}
const isSpace = (c) => c !== undefined && /\s/.test(c);
/**
 * Drops a comment (`#` at the start or after whitespace, outside quotes). One pass: where the last
 * character that is not whitespace is, is carried forward, so whether a quote may open a scalar
 * (after `key: `, `- `, or at the start) is known without looking back over the line.
 */
function stripComment(body, no) {
    let quote;
    let last = -1;
    for (let i = 0; i < body.length; i++) {
        const c = body[i];
        if (quote === '"') {
            if (c === '\\')
                i++;
            else if (c === '"')
                quote = undefined;
        }
        else if (quote === "'") {
            if (c === "'") {
                if (body[i + 1] === "'")
                    i++;
                else
                    quote = undefined;
            }
        }
        else if (c === '#' && (i === 0 || body[i - 1] === ' ' || body[i - 1] === '\t')) {
            return body.slice(0, i);
        }
        else if ((c === '"' || c === "'") && startsScalar(body, i, last)) {
            quote = c;
        }
        if (!isSpace(body[i]))
            last = i;
    }
    if (quote)
        throw new YamlSubsetError(no, `a quoted value is not closed on its line (multi-line values are not supported)`);
    return body;
}
/**
 * A quote opens a quoted scalar only where a scalar begins: at the start, or after whitespace that
 * follows `:` or a `-` standing alone. `last` is the index of the last character before `i` that
 * is not whitespace (-1 when there is none).
 */
function startsScalar(body, i, last) {
    if (i === 0)
        return true;
    if (last < 0 || last === i - 1)
        return false;
    const c = body[last];
    return c === ':' || (c === '-' && (last === 0 || isSpace(body[last - 1])));
}
function addField(map, text, line) {
    const no = line.no;
    const at = mappingColon(text);
    if (at < 0) {
        throw new YamlSubsetError(no, `expected 'field: value'${/^[[{]/.test(text) ? `; flow style is not supported: ${JSON_HINT}` : ''}`);
    }
    const rawKey = text.slice(0, at).trimEnd();
    if (!KEY_RE.test(rawKey))
        throw new YamlSubsetError(no, `a field name must be a plain word (letters, digits, '_')`);
    const key = rawKey.startsWith("'") || rawKey.startsWith('"') ? quoted(rawKey, no) : rawKey;
    if (map.has(key))
        throw new YamlSubsetError(no, `the field '${key}' is given twice in one rule`);
    const rest = text.slice(at + 1).replace(/^ +/, '');
    if (rest === '') {
        throw new YamlSubsetError(no, `the field '${key}' has no value on its line (nested values are not supported)`);
    }
    map.set(key, scalar(rest, line));
}
/** Where `key: value` splits: the first `:` followed by a space or the end, outside a quoted key. */
function mappingColon(text) {
    let i = 0;
    if (text[0] === '"' || text[0] === "'") {
        const q = text[0];
        for (i = 1; i < text.length; i++) {
            if (q === '"' && text[i] === '\\')
                i++;
            else if (text[i] === q) {
                if (q === "'" && text[i + 1] === "'")
                    i++;
                else
                    break;
            }
        }
    }
    for (; i < text.length; i++) {
        if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' '))
            return i;
    }
    return -1;
}
const INDICATORS = new Set(['[', ']', '{', '}', '&', '*', '!', '|', '>', '%', '@', '`', ',']);
function scalar(text, line) {
    const no = line.no;
    const c = text[0];
    if (c === '"' || c === "'") {
        const end = closingQuote(text);
        if (end < 0)
            throw new YamlSubsetError(no, `a quoted value is not closed on its line`);
        if (text.slice(end + 1).trim() !== '') {
            throw new YamlSubsetError(no, `something follows a quoted value; put the whole value in the quotes`);
        }
        return quoted(text.slice(0, end + 1), no);
    }
    if (INDICATORS.has(c) ||
        ((c === '-' || c === '?' || c === ':') && (text.length === 1 || text[1] === ' '))) {
        throw new YamlSubsetError(no, c === '[' || c === '{'
            ? `flow style is not supported: ${JSON_HINT}`
            : c === '&' || c === '*'
                ? 'anchors and aliases are not supported'
                : c === '!'
                    ? 'tags are not supported'
                    : c === '|' || c === '>'
                        ? 'block scalars are not supported (values are one line each)'
                        : `a value starting with '${c}' must be quoted`);
    }
    if (/: |:$/.test(text))
        throw new YamlSubsetError(no, `a value holding ': ' must be quoted`);
    // ` #` ends a plain value in YAML (the rest is a comment). Where that cut a function call in two,
    // the user meant the `#` as part of it: say so rather than send half an expression.
    if (line.commented && !balanced(text)) {
        throw new YamlSubsetError(no, `' #' inside a value starts a YAML comment; put the whole value in quotes`);
    }
    return resolvePlain(text);
}
/** Whether parentheses pair up and single and double quotes come in pairs. */
function balanced(s) {
    let depth = 0;
    for (const c of s) {
        if (c === '(')
            depth++;
        else if (c === ')' && --depth < 0)
            return false;
    }
    return depth === 0 && (s.match(/'/g) ?? []).length % 2 === 0 && (s.match(/"/g) ?? []).length % 2 === 0;
}
/** YAML 1.2 core schema: what a plain scalar means. */
function resolvePlain(s) {
    if (/^(?:null|Null|NULL|~)$/.test(s))
        return null;
    if (/^(?:true|True|TRUE)$/.test(s))
        return true;
    if (/^(?:false|False|FALSE)$/.test(s))
        return false;
    if (/^[-+]?[0-9]+$/.test(s))
        return Number(s);
    if (/^0o[0-7]+$/.test(s))
        return parseInt(s.slice(2), 8);
    if (/^0x[0-9a-fA-F]+$/.test(s))
        return parseInt(s.slice(2), 16);
    if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(s))
        return Number(s);
    if (/^[-+]?\.(?:inf|Inf|INF)$/.test(s))
        return s.startsWith('-') ? -Infinity : Infinity;
    if (/^\.(?:nan|NaN|NAN)$/.test(s))
        return NaN;
    return s;
}
function closingQuote(text) {
    const q = text[0];
    for (let i = 1; i < text.length; i++) {
        if (q === '"' && text[i] === '\\')
            i++;
        else if (text[i] === q) {
            if (q === "'" && text[i + 1] === "'")
                i++;
            else
                return i;
        }
    }
    return -1;
}
const ESCAPES = {
    '0': '\0',
    a: '\x07',
    b: '\b',
    t: '\t',
    '\t': '\t',
    n: '\n',
    v: '\v',
    f: '\f',
    r: '\r',
    e: '\x1b',
    ' ': ' ',
    '"': '"',
    '/': '/',
    '\\': '\\',
    N: '\u0085',
    _: '\u00a0',
    L: '\u2028',
    P: '\u2029',
};
/** The value of a complete quoted scalar (quotes included in `text`). */
function quoted(text, no) {
    const body = text.slice(1, -1);
    if (text[0] === "'")
        return body.replace(/''/g, "'");
    let out = '';
    for (let i = 0; i < body.length; i++) {
        const c = body[i];
        if (c !== '\\') {
            out += c;
            continue;
        }
        const e = body[++i] ?? '';
        const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
        if (hex > 0) {
            const digits = body.slice(i + 1, i + 1 + hex);
            if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits))
                throw new YamlSubsetError(no, `a bad \\${e} escape`);
            out += String.fromCodePoint(parseInt(digits, 16));
            i += hex;
        }
        else if (e in ESCAPES) {
            out += ESCAPES[e];
        }
        else {
            throw new YamlSubsetError(no, `an unknown escape '\\${e}' in a double-quoted value`);
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./src/masking/rules.ts


/** A bad list of rules; the caller (inputs.ts) turns it into an InputError naming its input. */
class MaskingRulesError extends Error {
    constructor(message) {
        super(message);
        this.name = 'MaskingRulesError';
    }
}
/** Schema of a rule that names only a table. */
const DEFAULT_SCHEMA = 'public';
const FIELDS = {
    database: 'database_name',
    schema: 'schema_name',
    table: 'table_name',
    column: 'column_name',
    function: 'masking_function',
    value: 'masking_value',
};
const RULE_SHAPE = 'A rule is: table (or schema.table), column, and exactly one of function (a PostgreSQL Anonymizer ' +
    'expression such as anon.dummy_free_email()) or value (a literal); optionally database (default: the ' +
    "'database' input) and schema (default: public).";
const MAX_IDENTIFIER_BYTES = 63;
const MAX_EXPRESSION_CHARS = 10_000;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * Parses and checks a list of rules; `database` fills in rules that name none. Throws
 * MaskingRulesError for the first thing wrong.
 */
function parseMaskingRules(text, format, database) {
    const items = readList(text, format);
    if (items.length === 0) {
        throw new MaskingRulesError('the list of rules is empty. Leave the input unset for a branch that is not anonymized. ' + RULE_SHAPE);
    }
    const rules = items.map((item, i) => toRule(item, i, database));
    const seen = new Map();
    rules.forEach((r, i) => {
        const key = columnKey(r);
        const earlier = seen.get(key);
        if (earlier !== undefined) {
            throw new MaskingRulesError(`${label(i, items[i]?.line)} masks the same column as ${label(earlier, items[earlier]?.line)}; ` +
                'give each column one rule.');
        }
        seen.set(key, i);
    });
    return rules;
}
function readList(text, format) {
    const trimmed = text.trim();
    // JSON is YAML too, and the YAML subset has no flow style: text opening a list or a mapping is JSON.
    const json = format === 'json' || /^[[{]/.test(trimmed);
    if (json) {
        let value;
        try {
            value = parseStrictJson(text.replace(/^\uFEFF/, ''));
        }
        catch (e) {
            if (!(e instanceof StrictJsonError))
                throw e;
            // The action's own message (line, column, what was expected), never the parser's: that one
            // quotes the text, and the rules are x-sensitive.
            throw new MaskingRulesError(`the rules are not valid JSON: ${e.message}.` +
                (format === 'json' ? '' : ' (Text starting with [ or { is read as JSON.)'));
        }
        if (!Array.isArray(value))
            throw new MaskingRulesError('the rules must be a list (a JSON array). ' + RULE_SHAPE);
        return value.map((v) => ({ value: v, line: 0 }));
    }
    try {
        return parseYamlList(text);
    }
    catch (e) {
        if (e instanceof YamlSubsetError)
            throw new MaskingRulesError(`the rules are not YAML this action reads: ${e.message}.`);
        throw e;
    }
}
function label(i, line) {
    return `rule ${i + 1}${line ? ` (line ${line})` : ''}`;
}
function toRule(item, i, database) {
    const where = label(i, item.line);
    const fail = (what) => {
        throw new MaskingRulesError(`${where}: ${what}`);
    };
    const o = item.value;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
        return fail(`expected a rule (fields such as table and column), got ${describe(o)}. ${RULE_SHAPE}`);
    }
    const record = o;
    const known = new Set([...Object.keys(FIELDS), ...Object.values(FIELDS)]);
    const unknown = Object.keys(record).filter((k) => !known.has(k));
    if (unknown.length > 0) {
        fail(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${shortKey(k)}'`).join(', ')}. ` +
            `Fields: ${Object.keys(FIELDS).join(', ')} (or Neon's ${Object.values(FIELDS).join(', ')}).`);
    }
    const get = (f) => {
        const short = record[f];
        const long = record[FIELDS[f]];
        if (short !== undefined && long !== undefined)
            fail(`'${f}' and '${FIELDS[f]}' are the same field; give one`);
        const v = short ?? long;
        if (v === undefined)
            return undefined;
        if (typeof v !== 'string') {
            return fail(`'${short !== undefined ? f : FIELDS[f]}' must be text, got ${describe(v)}` +
                (v === null || typeof v === 'number' || typeof v === 'boolean' ? ` (in YAML, quote it: '…')` : ''));
        }
        return v;
    };
    const name = (f, v) => {
        if (v === '')
            fail(`'${f}' is empty`);
        if (v !== v.trim())
            fail(`'${f}' starts or ends with spaces`);
        if (CONTROL_RE.test(v))
            fail(`'${f}' holds a control character`);
        const bytes = Buffer.byteLength(v, 'utf8');
        if (bytes > MAX_IDENTIFIER_BYTES) {
            fail(`'${f}' has ${bytes} bytes; Postgres names are at most ${MAX_IDENTIFIER_BYTES}`);
        }
        return v;
    };
    const tableText = get('table');
    const column = get('column');
    const fn = get('function');
    const value = get('value');
    let schema = get('schema');
    if (tableText === undefined)
        fail(`'table' is missing. ${RULE_SHAPE}`);
    if (column === undefined)
        fail(`'column' is missing. ${RULE_SHAPE}`);
    let table = tableText;
    // `schema.table` when no schema is given; with `schema`, the table is taken as written.
    if (schema === undefined && table.includes('.')) {
        const dot = table.indexOf('.');
        schema = table.slice(0, dot);
        table = table.slice(dot + 1);
        if (schema === '' || table === '')
            fail(`'table' must be a table or schema.table`);
    }
    if (fn !== undefined && value !== undefined)
        fail(`'function' and 'value' are both given; give exactly one`);
    if (fn === undefined && value === undefined)
        fail(`neither 'function' nor 'value' is given; give exactly one`);
    if (fn !== undefined) {
        if (fn.trim() === '')
            fail(`'function' is empty`);
        if (fn.includes('\0'))
            fail(`'function' holds a NUL character`);
        if (fn.length > MAX_EXPRESSION_CHARS)
            fail(`'function' is longer than ${MAX_EXPRESSION_CHARS} characters`);
    }
    if (value !== undefined) {
        if (value.includes('\0'))
            fail(`'value' holds a NUL character`);
        if (value.length > MAX_EXPRESSION_CHARS)
            fail(`'value' is longer than ${MAX_EXPRESSION_CHARS} characters`);
    }
    const dbText = get('database');
    return {
        database_name: dbText === undefined ? database : name('database', dbText),
        schema_name: schema === undefined ? DEFAULT_SCHEMA : name('schema', schema),
        table_name: name('table', table),
        column_name: name('column', column),
        ...(fn !== undefined ? { masking_function: fn } : { masking_value: value }),
    };
}
function describe(v) {
    if (v === null)
        return 'nothing (null)';
    if (Array.isArray(v))
        return 'a list';
    return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}
// An unknown key is the user's typo, not data; still, keep it short and on one line.
function shortKey(k) {
    // eslint-disable-next-line no-control-regex
    const one = k.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    return one.length > 40 ? `${one.slice(0, 40)}…` : one;
}
/** The column a rule masks: database, schema, table and column. */
function columnKey(r) {
    return JSON.stringify([r.database_name, r.schema_name, r.table_name, r.column_name]);
}
function ruleKey(r) {
    return JSON.stringify([
        r.database_name,
        r.schema_name,
        r.table_name,
        r.column_name,
        r.masking_function ?? null,
        r.masking_value ?? null,
    ]);
}
/**
 * Whether two lists hold the same rules, in any order: Neon's PATCH replaces the whole list, so
 * this is what decides whether an adopted branch needs one (and a new masking run).
 */
function sameRules(a, b) {
    if (a.length !== b.length)
        return false;
    const x = a.map(ruleKey).sort();
    const y = b.map(ruleKey).sort();
    return x.every((k, i) => k === y[i]);
}
/** "1 rule", "3 rules". */
function countRules(n) {
    return `${n} masking rule${n === 1 ? '' : 's'}`;
}

;// CONCATENATED MODULE: ./src/masking/input.ts
/**
 * The `masking_rules` and `masking_rules_file` inputs: one or the other, read and checked by
 * getInputs before any request (rules.ts says what a rule is).
 */




/** A rules file larger than this is not a list of rules. */
const MAX_RULES_FILE_BYTES = 1 << 20;
const MAX_RULES_BYTES_SHOWN = `${MAX_RULES_FILE_BYTES.toLocaleString('en-US')} bytes (1 MiB)`;
const TOO_LARGE_HINT = 'a list of masking rules is a few lines per masked column: check that the input names the rules, ' +
    'not a dump or a generated file.';
const FORMATS = { '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml' };
function readMaskingRules(o) {
    const { fail } = o;
    if (o.inline !== '' && o.file !== '') {
        fail(INPUTS.maskingRules, `Inputs '${INPUTS.maskingRules}' and '${INPUTS.maskingRulesFile}' are both set; give the rules one way.`);
    }
    const input = o.inline !== '' ? INPUTS.maskingRules : o.file !== '' ? INPUTS.maskingRulesFile : undefined;
    if (input === undefined)
        return undefined;
    if (o.branchType === 'schema-only') {
        fail(input, `Input '${input}' is set, but 'branch_type' is 'schema-only': a schema-only branch has no data to ` +
            `mask. Use branch_type: default for masked data, or drop the rules for an empty copy of the schema.`);
    }
    if (input === INPUTS.maskingRules) {
        if (Buffer.byteLength(o.inline, 'utf8') > MAX_RULES_FILE_BYTES) {
            fail(input, `Invalid input '${input}': it is larger than ${MAX_RULES_BYTES_SHOWN}; ${TOO_LARGE_HINT}`);
        }
        return { rules: parse(o, input, o.inline, 'auto', `Invalid input '${input}'`), source: input };
    }
    if (!o.readFile)
        return undefined;
    const { path, shown } = locate(o);
    const format = FORMATS[(0,external_node_path_namespaceObject.extname)(path).toLowerCase()];
    if (!format) {
        fail(input, `Invalid input '${input}': ${shown} must end in .json, .yaml or .yml (it says how to read it).`);
    }
    let text;
    try {
        text = (o.read ?? ((p) => (0,external_node_fs_namespaceObject.readFileSync)(p, 'utf8')))(path);
    }
    catch (e) {
        return fail(input, `Input '${input}': could not read ${shown}: ${e.code ?? e.message}.`);
    }
    if (Buffer.byteLength(text, 'utf8') > MAX_RULES_FILE_BYTES) {
        fail(input, `Invalid input '${input}': ${shown} is larger than ${MAX_RULES_BYTES_SHOWN}; ${TOO_LARGE_HINT}`);
    }
    return {
        rules: parse(o, input, text, format, `Invalid input '${input}' (${shown})`),
        source: `${input} (${shown})`,
    };
}
function parse(o, input, text, format, prefix) {
    try {
        return parseMaskingRules(text, format, o.database);
    }
    catch (e) {
        if (e instanceof MaskingRulesError)
            return o.fail(input, `${prefix}: ${e.message}`);
        throw e;
    }
}
/**
 * The file, resolved in the workspace. A path that leads out of it (`..`, an absolute path
 * elsewhere, a symbolic link) is refused: the rules belong to the repository, and an error
 * message must never be how another file's content gets printed.
 */
function locate(o) {
    const input = INPUTS.maskingRulesFile;
    const workspace = o.workspace ?? process.env.GITHUB_WORKSPACE ?? process.cwd();
    // eslint-disable-next-line no-control-regex
    const shown = `'${o.file.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}'`;
    const candidate = (0,external_node_path_namespaceObject.isAbsolute)(o.file) ? o.file : (0,external_node_path_namespaceObject.resolve)(workspace, o.file);
    if (outside((0,external_node_path_namespaceObject.resolve)(workspace), candidate))
        o.fail(input, outsideMessage(shown));
    // Tests hand in files by path: only the lexical check applies.
    if (o.read)
        return { path: candidate, shown };
    let real;
    let root;
    try {
        root = (0,external_node_fs_namespaceObject.realpathSync)(workspace);
        real = (0,external_node_fs_namespaceObject.realpathSync)(candidate);
    }
    catch {
        return o.fail(input, `Input '${input}': ${shown} does not exist in the workspace (${workspace}). Check the repository ` +
            `out first (actions/checkout), or fix the path (it is relative to the repository's root).`);
    }
    // A symbolic link in the workspace may lead out of it.
    if (outside(root, real))
        o.fail(input, outsideMessage(shown));
    const stat = (0,external_node_fs_namespaceObject.statSync)(real);
    if (!stat.isFile())
        o.fail(input, `Invalid input '${input}': ${shown} is not a file.`);
    // Before reading it: a file of gigabytes must not be read into memory to be refused.
    if (stat.size > MAX_RULES_FILE_BYTES) {
        o.fail(input, `Invalid input '${input}': ${shown} is larger than ${MAX_RULES_BYTES_SHOWN}; ${TOO_LARGE_HINT}`);
    }
    return { path: real, shown };
}
function outside(root, path) {
    const rel = (0,external_node_path_namespaceObject.relative)(root, path);
    return rel === '' || rel.startsWith('..') || (0,external_node_path_namespaceObject.isAbsolute)(rel);
}
function outsideMessage(shown) {
    return (`Invalid input '${INPUTS.maskingRulesFile}': ${shown} is outside the workspace; give a path inside ` +
        'the repository, e.g. db/masking-rules.yml.');
}

;// CONCATENATED MODULE: ./src/inputs/masking.ts
// `masking_rules` and `masking_rules_file`: the reading and checking is masking/input.ts; this
// decides whether the file is read at all.


function readMasking(r, mode, target, options) {
    return readMaskingRules({
        inline: r.get(INPUTS.maskingRules),
        file: r.get(INPUTS.maskingRulesFile),
        // The rules matter where a branch is made; elsewhere a file is not even read (a job that
        // deletes need not check the repository out). `auto` reads it unless main.ts knows better.
        readFile: ['create', 'reset'].includes(mode === 'auto' ? (options.autoMode ?? 'create') : mode),
        database: target.database,
        branchType: target.branchType,
        fail: r.fail,
        ...(options.workspace !== undefined ? { workspace: options.workspace } : {}),
        ...(options.readFile ? { read: options.readFile } : {}),
    });
}

;// CONCATENATED MODULE: ./src/inputs/mode.ts
// `mode`, `ephemeral` and whether `api_key` may be empty: what the run is.


/** `mode` and `ephemeral` (create only), and the check that `api_key` is there unless allowed empty. */
function readMode(r, allowEmptyApiKey) {
    const mode = r.oneOf(INPUTS.mode, MODES);
    const ephemeral = r.bool(INPUTS.ephemeral, 'false');
    if (ephemeral && mode !== 'create') {
        r.fail(INPUTS.ephemeral, `Input '${INPUTS.ephemeral}' is true, which is allowed only with 'mode: create' (mode is '${mode}'): ` +
            `an ephemeral branch is created by its job and deleted by the same job's post step.`);
    }
    if (r.apiKey === '' && !allowEmptyApiKey) {
        r.fail(INPUTS.apiKey, `Input '${INPUTS.apiKey}' is required but was empty. Pass a Neon API key from a secret, e.g. ` +
            '`api_key: ${{ secrets.NEON_API_KEY }}` (a secret that is not set, or not available to pull requests ' +
            'from forks, reads as empty).');
    }
    return { mode, ephemeral };
}

;// CONCATENATED MODULE: ./src/inputs/types.ts
/** A bad input value. The message names the input and what is allowed, and never holds a secret. */
class InputError extends Error {
    /** The input's name as written in action.yml, e.g. `expires_in`. */
    input;
    constructor(input, message) {
        super(message);
        this.name = 'InputError';
        this.input = input;
    }
}

;// CONCATENATED MODULE: ./src/inputs/neon-names.ts
// Neon's own actions' names for inputs this action has under another name (issue 32). GitHub only
// warns "Unexpected input" for an input an action does not declare, and the step then runs on the
// default: `username: app_user` (create-branch-action v5) would connect as neondb_owner. The runner
// sets INPUT_<NAME> for every `with:` key, declared or not, so the reader sees them; every one of
// these that is given fails the step before any request, naming ours. docs/migrating.md holds the
// same tables (its inputs and outputs, and what behaves differently), and a test holds the two together.


/**
 * Every input of Neon's actions (their action.yml at the tag named) that this action does not
 * declare. Their other inputs (`project_id`, `api_key`, `api_host`, `branch_name`, `database`,
 * `prisma`, `ssl`, `suspend_timeout`, and all of create-branch-action v6's) are ours too, with the
 * same meaning: never refused.
 */
const NEON_INPUT_NAMES = [
    { neon: 'username', action: 'create-branch-action v5', ours: INPUTS.role },
    { neon: 'parent', action: 'create-branch-action v5', ours: INPUTS.parentBranch },
    {
        neon: 'parent',
        action: 'reset-branch-action v1',
        note: '`mode: reset` resets from the parent without it; `parent_branch` names another source',
    },
    { neon: 'branch', action: 'delete-branch-action v3', ours: INPUTS.branchName },
    { neon: 'branch_id', action: 'delete-branch-action v3', ours: INPUTS.branchName },
    { neon: 'branch', action: 'reset-branch-action v1', ours: INPUTS.branchName },
    { neon: 'cs_role_name', action: 'reset-branch-action v1', ours: INPUTS.role },
    { neon: 'cs_database', action: 'reset-branch-action v1', ours: INPUTS.database },
    { neon: 'cs_prisma', action: 'reset-branch-action v1', ours: INPUTS.prisma },
    { neon: 'cs_ssl', action: 'reset-branch-action v1', ours: INPUTS.ssl },
    { neon: 'github-token', action: 'schema-diff-action v1', ours: INPUTS.githubToken },
    { neon: 'compare_branch', action: 'schema-diff-action v1', ours: INPUTS.branchName },
    { neon: 'base_branch', action: 'schema-diff-action v1', ours: INPUTS.parentBranch },
    {
        neon: 'timestamp',
        action: 'schema-diff-action v1',
        note: 'the branch is compared as it is now; a point in time goes on the other side: ' +
            '`parent_branch: <name>@<timestamp>`',
    },
    {
        neon: 'lsn',
        action: 'schema-diff-action v1',
        note: 'the branch is compared as it is now; a point in time goes on the other side: ' +
            '`parent_branch: <name>@<LSN>`',
    },
];
/** The message for a Neon name given to this action: each of Neon's meanings, and ours. */
function neonNameMessage(neon, rows = NEON_INPUT_NAMES) {
    const parts = rows
        .filter((r) => r.neon === neon)
        .map((r) => {
        const what = r.ours
            ? `this action calls it '${r.ours}'${r.note ? ` (${r.note})` : ''}`
            : `this action has no such input: ${r.note ?? 'remove it'}`;
        return `${r.action.replace(/ v\d+$/, '')}'s name; ${what}`;
    });
    return `input '${neon}' is ${parts.join('. It is also ')}.`;
}
/**
 * Fails (InputError, naming ours) on the first of Neon's names given a value. `read` is the
 * reader's core.getInput-like read: '' for an input the workflow does not set.
 */
function refuseNeonNames(read) {
    const declared = new Set(Object.values(INPUTS));
    for (const neon of new Set(NEON_INPUT_NAMES.map((r) => r.neon))) {
        if (declared.has(neon))
            continue;
        if (read(neon).trim() !== '')
            throw new InputError(neon, neonNameMessage(neon));
    }
}

;// CONCATENATED MODULE: ./src/inputs/project.ts
// `project_id` and `api_host`: which Neon project, and the one base URL the API key is sent to.


const PROJECT_ID_RE = /^[a-z0-9-]{1,60}$/;
const URL_EXPECTED = `Expected an https:// URL (http:// only for localhost), e.g. ${DEFAULT_API_HOST}.`;
/** `project_id` (required, of the form of a Neon project id) and `api_host`. */
function readProject(r) {
    const projectId = r.get(INPUTS.projectId);
    if (projectId === '') {
        r.fail(INPUTS.projectId, `Input '${INPUTS.projectId}' is required. Find it in the Neon console under Settings.`);
    }
    if (!PROJECT_ID_RE.test(projectId)) {
        r.invalid(INPUTS.projectId, projectId, 'Expected a Neon project id: 1 to 60 lower-case letters, digits and dashes, e.g. restless-river-12345678.');
    }
    const apiHost = parseApiHost(r.get(INPUTS.apiHost) || DEFAULTS.apiHost, r.invalid, r.fail);
    return { projectId, apiHost };
}
/**
 * `api_host` as the one base URL the API key is ever sent to: https, or plain http only to this
 * machine (a simulator, a local proxy), where the key never crosses a network. Exported for the
 * post step, which checks its recorded host against it.
 *
 * A refusal names what is wrong (not a URL, the scheme, credentials, a query string, a fragment)
 * and never prints the value: a user name, a password, `?access_token=…` or a fragment would be a
 * secret in the log and the summary. What it shows at most is the scheme and the host.
 */
function parseApiHost(value, _invalid, fail) {
    const refuse = (what) => fail(INPUTS.apiHost, `Invalid input '${INPUTS.apiHost}': ${what}`);
    let url;
    try {
        url = new URL(value);
    }
    catch {
        return refuse(`the value is not a URL (not shown: it may hold a secret). ${URL_EXPECTED}`);
    }
    const problems = [];
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        problems.push(`its scheme is '${url.protocol.replace(/[^a-z0-9+.:-]/g, '?')}', not https:`);
    }
    if (url.username !== '' || url.password !== '') {
        problems.push('it holds a user name or password; authenticate with api_key');
    }
    if (url.search !== '')
        problems.push('it has a query string (?…)');
    if (url.hash !== '')
        problems.push('it has a fragment (#…)');
    if (problems.length > 0) {
        const expected = problems[0].startsWith('its scheme')
            ? URL_EXPECTED
            : 'The API base URL must not have a user name or password, a query string or fragment.';
        return refuse(`the URL is refused (not shown: it may hold a secret): ${problems.join('; ')}. ${expected}`);
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        return refuse(`http://${url.host}: Plain http:// would send the API key in clear text: use https://, e.g. ` +
            `${DEFAULT_API_HOST}. http:// is accepted only for this machine: localhost, 127.0.0.0/8 or [::1].`);
    }
    return url.href.replace(/\/+$/, '');
}
/**
 * The hosts plain http may go to: the loopback names and addresses. `hostname` is the WHATWG URL
 * parser's, already normalized (lower-cased; `127.1` and `0x7f.0.0.1` read as `127.0.0.1`;
 * `[0:0:0:0:0:0:0:1]` as `[::1]`), so an address cannot pass in another spelling.
 */
function isLoopbackHost(hostname) {
    if (hostname === 'localhost' || hostname === '[::1]')
        return true;
    const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
    return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}
/** Whether `id` has the form of a Neon project id (what `project_id` accepts). */
function isProjectId(id) {
    return PROJECT_ID_RE.test(id);
}

;// CONCATENATED MODULE: ./src/inputs/reader.ts
// The reader every input reader uses: it reads an input (trimmed), and checks the common shapes
// (one of a list, a boolean, a whole number in a range, a branch name, a Postgres name, a duration).
// Every message it raises is scrubbed of the API key and the GitHub token, and quotes the value.



const MAX_NAME_CHARS = 256;
const reader_MAX_IDENTIFIER_BYTES = 63;
// Same set core.getBooleanInput accepts (YAML 1.2 core schema), so behaviour matches other actions.
const TRUE_VALUES = ['true', 'True', 'TRUE'];
const FALSE_VALUES = ['false', 'False', 'FALSE'];
// C0, DEL and C1 controls: they corrupt logs and API paths and are never intended in a name.
// eslint-disable-next-line no-control-regex
const reader_CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE_GLOBAL = /[\u0000-\u001f\u007f-\u009f]/g;
// Secrets shorter than this are not redacted from messages: replacing every 'a' would garble them, and a real
// Neon key or GitHub token is far longer.
const MIN_REDACT_LENGTH = 4;
const MAX_QUOTED_CHARS = 100;
/** A Reader over `read` (core.getInput-like: '' when unset). */
function inputReader(read) {
    const get = (name) => read(name).trim();
    // Read the secrets first so every later message can be scrubbed of them, even when a user pastes a key into
    // the wrong input.
    const apiKey = get(INPUTS.apiKey);
    const githubToken = get(INPUTS.githubToken);
    const secrets = [apiKey, githubToken].filter((s) => s.length >= MIN_REDACT_LENGTH);
    const redact = (text) => secrets.reduce((acc, secret) => acc.split(secret).join('***'), text);
    const fail = (input, message) => {
        throw new InputError(input, redact(message));
    };
    // The value is redacted before it is shortened for display: cutting first could leave part of a secret.
    const invalid = (input, value, expected) => fail(input, `Invalid input '${input}': ${quote(redact(value))}. ${expected}`);
    const checks = { get, fail, invalid };
    return {
        apiKey,
        githubToken,
        ...checks,
        oneOf: (input, allowed, fallback) => oneOf(checks, input, allowed, fallback),
        bool: (input, fallback) => bool(checks, input, fallback),
        integer: (input, fallback, min, max, what) => integer(checks, input, fallback, min, max, what),
        optionalName: (input) => optionalName(checks, input),
        identifier: (input, fallback) => identifier(checks, input, fallback),
        duration: (input, value) => {
            try {
                return parseDuration(value);
            }
            catch (err) {
                return invalid(input, value, err.message);
            }
        },
    };
}
function oneOf(r, input, allowed, fallback) {
    const value = r.get(input);
    if (value === '' && fallback !== undefined)
        return fallback;
    if (value === '') {
        return r.fail(input, `Input '${input}' is required. Expected one of: ${allowed.join(', ')}.`);
    }
    if (!allowed.includes(value)) {
        return r.invalid(input, value, `Expected one of: ${allowed.join(', ')}.`);
    }
    return value;
}
function bool(r, input, fallback) {
    const value = r.get(input) || fallback;
    if (TRUE_VALUES.includes(value))
        return true;
    if (FALSE_VALUES.includes(value))
        return false;
    return r.invalid(input, value, 'Expected true or false (True, TRUE, False and FALSE are also accepted).');
}
function integer(r, input, fallback, min, max, what) {
    const value = r.get(input) || fallback;
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
        return r.invalid(input, value, `Expected a whole number of ${what} from ${min} to ${max}.`);
    }
    return n;
}
// Branch names: Neon allows up to 256 characters; control characters would only ever be a mistake.
function optionalName(r, input) {
    const value = r.get(input);
    if (value === '')
        return undefined;
    if (reader_CONTROL_RE.test(value))
        return r.invalid(input, value, 'Names must not contain control characters.');
    const length = [...value].length;
    if (length > MAX_NAME_CHARS) {
        return r.invalid(input, value, `Names are at most ${MAX_NAME_CHARS} characters; this one has ${length}.`);
    }
    return value;
}
// Postgres silently truncates identifiers longer than 63 bytes, which would make the URL name a database or
// role that does not exist; better to refuse.
function identifier(r, input, fallback) {
    const value = r.get(input) || fallback;
    if (value.includes('\0'))
        return r.invalid(input, value, 'Postgres names cannot contain a NUL character.');
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > reader_MAX_IDENTIFIER_BYTES) {
        return r.invalid(input, value, `Postgres names are 1 to ${reader_MAX_IDENTIFIER_BYTES} bytes of UTF-8; this one has ${bytes} bytes.`);
    }
    return value;
}
// Shows a value in messages: control characters escaped so a log line stays one line, long values shortened.
function quote(value) {
    const escaped = value.replace(CONTROL_RE_GLOBAL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const chars = [...escaped];
    const shown = chars.length > MAX_QUOTED_CHARS ? `${chars.slice(0, MAX_QUOTED_CHARS).join('')}…` : escaped;
    return `'${shown}'`;
}

;// CONCATENATED MODULE: ./src/neon/point-in-time.ts
/**
 * Neon's CLI point-in-time form, `<branch>@<timestamp>` or `<branch>@<LSN>`, parsed by the CLI's own
 * rules (`neon` 5.0.1, dist/utils/point_in_time.js `parsePITBranch` and dist/utils/formats.js):
 * - the branch is everything before the LAST `@` (a branch name may itself hold an `@`);
 * - the rest is an LSN when it is `hex/hex` with 1 to 8 hex digits on each side, e.g. `0/1A2B3C4`;
 * - anything else must be a timestamp `YYYY-MM-DDTHH:MM:SS[.sss]` with `Z` or `±HH:MM` (the zone is
 *   mandatory: a zoneless time would depend on the runner's time zone) that Date.parse accepts.
 * The CLI's check that a timestamp is not in the future needs a clock; {@link isInFuture} does it
 * with the caller's.
 *
 * Pure: no I/O, no clock.
 */
/** A value that is not in the CLI's point-in-time form. The message says what is accepted. */
class PointInTimeError extends Error {
    constructor(message) {
        super(message);
        this.name = 'PointInTimeError';
    }
}
// Both copied from neonctl's formats.js (LSN_REGEX, and the pattern inside looksLikeTimestamp).
const LSN_RE = /^[a-fA-F0-9]{1,8}\/[a-fA-F0-9]{1,8}$/;
const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?([+-]\d{2}:\d{2}|Z)$/;
/** What a point may look like, for messages. */
const POINT_IN_TIME_FORMS = '<branch name or id>@<RFC 3339 timestamp with a time zone> (e.g. main@2026-11-30T09:00:00Z or ' +
    'main@2026-11-30T10:00:00.000+01:00) or <branch name or id>@<LSN> (e.g. main@0/1A2B3C4)';
/** Whether a string is an LSN as neonctl recognises one. */
function looksLikeLsn(value) {
    return LSN_RE.test(value);
}
/** Whether a string is a timestamp as neonctl recognises one (the form and a real date). */
function looksLikeTimestamp(value) {
    return TIMESTAMP_RE.test(value) && !Number.isNaN(Date.parse(value));
}
/**
 * Splits `ref@point` into the branch and its point; a value without `@` is the branch's head.
 * Throws PointInTimeError when the part after the last `@` is neither an LSN nor a timestamp, or
 * when there is nothing before it.
 */
function parsePointInTime(value) {
    const at = value.lastIndexOf('@');
    if (at === -1)
        return { ref: value };
    const ref = value.slice(0, at);
    const point = value.slice(at + 1);
    if (ref === '') {
        throw new PointInTimeError(`There is no branch name or id before the '@'. Expected ${POINT_IN_TIME_FORMS}.`);
    }
    if (looksLikeLsn(point))
        return { ref, lsn: point };
    if (!looksLikeTimestamp(point)) {
        throw new PointInTimeError(`'${point}' after the last '@' is neither an LSN nor an RFC 3339 timestamp with a time zone. ` +
            `Expected ${POINT_IN_TIME_FORMS}.`);
    }
    return { ref, timestamp: point };
}
/** Whether the point's timestamp lies after `now` (ms since the epoch). An LSN or a head is never. */
function isInFuture(p, now) {
    return p.timestamp !== undefined && Date.parse(p.timestamp) > now;
}
/** `0/1a2b` and `0/1A2B` and `00/01A2B` are one LSN: compares the 64-bit numbers. */
function sameLsn(a, b) {
    const num = (s) => {
        if (!looksLikeLsn(s))
            return undefined;
        const [hi, lo] = s.split('/');
        return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
    };
    const x = num(a);
    return x !== undefined && x === num(b);
}
/** How a point reads in logs, comments and summaries: `main at 2026-…` / `main at LSN 0/…` / `main`. */
function describePoint(ref, p) {
    if (p.lsn !== undefined)
        return `${ref} at LSN ${p.lsn}`;
    if (p.timestamp !== undefined)
        return `${ref} as of ${p.timestamp}`;
    return ref;
}

;// CONCATENATED MODULE: ./src/inputs/target.ts
// The branch target: `branch_name`, `parent_branch` (with its point in time) and
// `preserve_under_name`.




/** `branch_name` and `parent_branch`, split into the branch and its point in time. */
function readBranchTarget(r, mode, now) {
    const target = {};
    const branchName = r.optionalName(INPUTS.branchName);
    if (branchName !== undefined)
        target.branchName = branchName;
    const parentText = r.optionalName(INPUTS.parentBranch);
    if (parentText !== undefined) {
        target.parentText = parentText;
        const { parentBranch, parentPoint } = parseParent(parentText, mode, now(), r.invalid);
        target.parentBranch = parentBranch;
        if (parentPoint !== undefined)
            target.parentPoint = parentPoint;
    }
    return target;
}
/** `preserve_under_name`, required to reset a branch to its own past (`^self@...`). */
function readPreserveUnderName(r, mode, target) {
    const preserveUnderName = r.optionalName(INPUTS.preserveUnderName);
    // Neon's BranchRestoreRequest: restoring a branch from its own history needs preserve_under_name.
    if (mode === 'reset' && target.parentBranch === SELF && preserveUnderName === undefined) {
        r.fail(INPUTS.preserveUnderName, `Input '${INPUTS.preserveUnderName}' is required when '${INPUTS.parentBranch}' is ` +
            `${quote(target.parentText ?? '')}: a branch restored to its own past keeps its current state as a ` +
            `branch of that name (Neon requires it), e.g. preserve_under_name: preview/pr-7-before-restore.`);
    }
    return preserveUnderName;
}
/** `^self`: the branch itself (neonctl's name for the restore target); `^parent`: its parent. */
const SELF = '^self';
const PARENT = '^parent';
/**
 * Splits `parent_branch` into the branch and its point in time (neonctl's `<branch>@<point>`), and
 * refuses what cannot be meant: a malformed point, a timestamp in the future, `^self`/`^parent`
 * outside reset, `^self` without a point. The history window needs the project (a request), so
 * the modes check it, still before any change.
 */
function parseParent(text, mode, now, invalid) {
    const input = INPUTS.parentBranch;
    let parsed;
    try {
        parsed = parsePointInTime(text);
    }
    catch (err) {
        return invalid(input, text, err.message);
    }
    const { ref, lsn, timestamp } = parsed;
    if (isInFuture(parsed, now.getTime())) {
        invalid(input, text, `The timestamp ${timestamp} is in the future (now is ${isoSeconds(now)}); a branch can only start ` +
            `from its parent's past or present.`);
    }
    if ((ref === SELF || ref === PARENT) && mode !== 'reset') {
        invalid(input, text, `'${ref}' names the branch being reset (^self) or its parent (^parent): it is for mode 'reset' only. ` +
            `Expected ${POINT_IN_TIME_FORMS}.`);
    }
    if (ref === SELF && lsn === undefined && timestamp === undefined) {
        invalid(input, text, `'^self' needs a point in the branch's own past, e.g. ^self@2026-11-30T09:00:00Z or ^self@0/1A2B3C4.`);
    }
    const point = lsn !== undefined
        ? { lsn }
        : timestamp !== undefined
            ? { timestamp, timestampMs: Date.parse(timestamp) }
            : undefined;
    return point ? { parentBranch: ref, parentPoint: point } : { parentBranch: ref };
}

;// CONCATENATED MODULE: ./src/inputs/index.ts
/**
 * Reads and validates every action input up front, so a typo fails the step before any Neon or GitHub call.
 * One reader per concern (mode.ts, project.ts, target.ts, connection.ts, compute.ts, expiry.ts,
 * cleanup.ts, masking.ts), all through reader.ts; this file calls them in action.yml's order and
 * assembles the one `Inputs` object.
 */


















const MAX_TIMEOUT_SECONDS = 3600;
const defaultRead = (name) => getInput(name);
/**
 * Reads and validates every input. `read` defaults to core.getInput-like behaviour (trimmed, '' when unset) so
 * tests pass a plain function; `now` is injectable. Throws InputError on the first bad input.
 */
function getInputs(read = defaultRead, now = () => new Date(), options = {}) {
    const r = inputReader(read);
    // Neon's actions' names for our inputs (`username`, `branch`, …) fail first, naming ours.
    refuseNeonNames(read);
    // Validation order follows action.yml, so "the first bad input" is predictable.
    const { mode, ephemeral } = readMode(r, options.allowEmptyApiKey === true);
    const { projectId, apiHost } = readProject(r);
    const target = readBranchTarget(r, mode, now);
    const branchType = r.oneOf(INPUTS.branchType, BRANCH_TYPES, DEFAULTS.branchType);
    const connection = readConnection(r);
    const suspendTimeout = readSuspendTimeout(r);
    const expiry = readExpiry(r, ephemeral, now);
    const timeoutMs = r.integer(INPUTS.timeout, DEFAULTS.timeout, 1, MAX_TIMEOUT_SECONDS, 'seconds') * 1000;
    // A CI job's throwaway database is not news for the pull request: no comment unless asked for.
    const comment = r.bool(INPUTS.comment, ephemeral ? 'false' : DEFAULTS.comment);
    const dryRun = r.bool(INPUTS.dryRun, DEFAULTS.dryRun);
    const cleanup = readCleanup(r);
    const preserveUnderName = readPreserveUnderName(r, mode, target);
    const computeUnits = readComputeUnits(r);
    const masking = readMasking(r, mode, { database: connection.database, branchType }, options);
    const getAuthUrl = r.bool(INPUTS.getAuthUrl, DEFAULTS.getAuthUrl);
    const getDataApiUrl = r.bool(INPUTS.getDataApiUrl, DEFAULTS.getDataApiUrl);
    const resetPassword = r.bool(INPUTS.resetPassword, DEFAULTS.resetPassword);
    const inputs = {
        mode,
        ephemeral,
        apiKey: r.apiKey,
        projectId,
        apiHost,
        branchType,
        ...connection,
        suspendTimeout,
        expiry,
        timeoutMs,
        githubToken: r.githubToken,
        comment,
        dryRun,
        ...cleanup,
        getAuthUrl,
        getDataApiUrl,
        resetPassword,
    };
    // Optional keys are left out rather than set to undefined, so `'branchName' in inputs` means "given".
    if (target.branchName !== undefined)
        inputs.branchName = target.branchName;
    if (target.parentBranch !== undefined)
        inputs.parentBranch = target.parentBranch;
    if (target.parentPoint !== undefined)
        inputs.parentPoint = target.parentPoint;
    if (computeUnits !== undefined)
        inputs.computeUnits = computeUnits;
    if (preserveUnderName !== undefined)
        inputs.preserveUnderName = preserveUnderName;
    if (masking !== undefined)
        inputs.masking = masking;
    return inputs;
}

;// CONCATENATED MODULE: ./src/inputs.ts
// The inputs live in src/inputs/ (one reader per concern); this file keeps `./inputs.js` the one
// place the rest of the code imports them from.


;// CONCATENATED MODULE: ./src/github/context.ts

const PR_EVENTS = new Set(['pull_request', 'pull_request_target']);
function isPullRequestEvent(eventName) {
    return PR_EVENTS.has(eventName);
}
/**
 * Reads the run's context from the runner's environment and event file, as the runner provides
 * them (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, …). Called from run(), never at
 * import, so tests can set the environment first.
 */
function readRunContext(env = process.env) {
    const eventName = env.GITHUB_EVENT_NAME ?? '';
    let payload = {};
    const eventPath = env.GITHUB_EVENT_PATH;
    if (eventPath) {
        try {
            payload = JSON.parse((0,external_node_fs_namespaceObject.readFileSync)(eventPath, 'utf8'));
        }
        catch (e) {
            throw new Error(`Cannot read the event payload at GITHUB_EVENT_PATH (${eventPath}): ${e.message}`);
        }
    }
    const serverUrl = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
    const repository = env.GITHUB_REPOSITORY ?? '';
    const runId = env.GITHUB_RUN_ID;
    const ctx = {
        eventName,
        repository,
        ...(env.GITHUB_REPOSITORY_ID ? { repositoryId: env.GITHUB_REPOSITORY_ID } : {}),
        action: payload.action,
        sha: env.GITHUB_SHA,
        serverUrl,
        apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
        runId,
        ...(env.GITHUB_RUN_ATTEMPT ? { runAttempt: env.GITHUB_RUN_ATTEMPT } : {}),
        ...(env.GITHUB_JOB ? { job: env.GITHUB_JOB } : {}),
        runUrl: repository && runId ? `${serverUrl}/${repository}/actions/runs/${runId}` : undefined,
    };
    const workflowFile = workflowFileOf(env.GITHUB_WORKFLOW_REF);
    if (workflowFile)
        ctx.workflowFile = workflowFile;
    const pr = payload.pull_request;
    if (isPullRequestEvent(eventName) && pr && typeof pr.number === 'number' && pr.head?.ref) {
        const headRepo = pr.head.repo?.full_name;
        const baseRepo = pr.base?.repo?.full_name ?? (repository || undefined);
        ctx.pullRequest = {
            number: pr.number,
            headRef: pr.head.ref,
            headSha: pr.head.sha ?? env.GITHUB_SHA ?? '',
            headRepo,
            baseRepo,
            // GitHub sends `head.repo: null` when the fork has since been deleted.
            fromFork: pr.head.repo === null ||
                (headRepo !== undefined &&
                    baseRepo !== undefined &&
                    headRepo.toLowerCase() !== baseRepo.toLowerCase()),
            title: pr.title,
        };
    }
    return ctx;
}
/** `owner/repo/.github/workflows/preview.yml@refs/…` → `preview.yml`; undefined for anything else. */
function workflowFileOf(ref) {
    const m = /\/\.github\/workflows\/([^/@]+)@/.exec(ref ?? '');
    return m?.[1];
}

;// CONCATENATED MODULE: ./src/github/auto-mode.ts
/**
 * `mode: auto`: the mode a workflow run's event asks for. Pure, so every event is unit-tested.
 */



/** Pull request actions after which the branch should exist and match the head commit. */
const CREATE_ACTIONS = ['opened', 'reopened', 'synchronize', 'ready_for_review'];
/**
 * Picks the mode for `mode: auto`: pull_request and pull_request_target `opened`, `reopened`,
 * `synchronize`, `ready_for_review` → create; `closed` → delete; `schedule` → cleanup.
 *
 * Anything else (another event, or another pull request action such as `labeled` or `edited`)
 * throws an InputError asking for an explicit mode: guessing there could delete or reset a
 * database nobody asked to touch.
 */
function chooseAutoMode(ctx) {
    const event = ctx.eventName;
    if (isPullRequestEvent(event)) {
        const action = ctx.action ?? '';
        const because = `${event} ${action || '(no action)'}`;
        if (CREATE_ACTIONS.includes(action))
            return { mode: 'create', because };
        if (action === 'closed')
            return { mode: 'delete', because };
        throw new InputError(INPUTS.mode, `Input 'mode' is 'auto', but the '${event}' event with action '${action || '(none)'}' maps to no mode: ` +
            `auto creates on ${CREATE_ACTIONS.join(', ')} and deletes on closed. ` +
            `Set 'mode' explicitly (create, reset, delete, cleanup or schema-diff) for this event, ` +
            `or limit the workflow's 'types:' to those actions.`);
    }
    if (event === 'schedule')
        return { mode: 'cleanup', because: 'schedule' };
    throw new InputError(INPUTS.mode, `Input 'mode' is 'auto', but auto only understands pull_request, pull_request_target and schedule ` +
        `events, not '${event || '(unknown)'}'. Set 'mode' explicitly (create, reset, delete, cleanup or schema-diff); ` +
        `outside a pull request also set 'branch_name'.`);
}
/**
 * `mode: create` on a pull request `closed` event (issue 32): the pull request is done, and a create
 * there would make (or keep, with its expiry pushed out) a branch nobody will use. Fails before any
 * request, saying what the workflow meant. `ephemeral: true` is a branch for the job, deleted when
 * it ends: it is let through.
 */
function refuseCreateOnClosed(mode, ephemeral, ctx) {
    if (mode !== 'create' || ephemeral || !isPullRequestEvent(ctx.eventName) || ctx.action !== 'closed')
        return;
    throw new InputError(INPUTS.mode, `Input 'mode' is 'create', but this is a '${ctx.eventName} closed' event: creating would make (or keep) ` +
        `a branch for a pull request that is over. Use 'mode: delete' for closed events (a job of its own, as in ` +
        `examples/pull-request.yml), or 'mode: auto', which creates on ` +
        `${CREATE_ACTIONS.join(', ')} and deletes on closed. Nothing was sent to Neon.`);
}

;// CONCATENATED MODULE: external "node:crypto"
const external_node_crypto_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:crypto");
;// CONCATENATED MODULE: ./src/github/naming.ts
/**
 * Branch names derived from pull requests and from CI jobs.
 */


const BRANCH_ID_RE = /^br-[a-z0-9-]+$/;
// Everything else becomes '-': keeps names readable in the Neon console and safe in API paths and URLs.
const UNSAFE_CHAR_RE = /[^a-z0-9._/-]/gu;
const HASH_HEX_CHARS = 8;
const SUFFIX_BYTES = 1 + HASH_HEX_CHARS;
/**
 * The Neon branch name for a pull request: `preview/pr-<n>-<head ref>`, lower-cased, with every character outside
 * `[a-z0-9._/-]` replaced by `-` (one `-` per code point, so an emoji is one dash).
 *
 * The result is at most {@link MAX_NAME_BYTES} bytes. A longer name is cut, trailing `-` and `/` are dropped, and
 * `-<8 hex>` is appended: the first 8 hex digits of the SHA-256 of the full, untruncated and unsanitized name,
 * so two long head refs that share a prefix (or differ only in characters that sanitize alike) do not collide,
 * while the same ref always yields the same name.
 *
 * @throws RangeError when `prNumber` is not a positive integer.
 */
function previewBranchName(prNumber, headRef) {
    if (!Number.isSafeInteger(prNumber) || prNumber < 1) {
        throw new RangeError(`Pull request number must be a positive integer; got ${prNumber}.`);
    }
    return safeBranchName(headRef === '' ? `preview/pr-${prNumber}` : `preview/pr-${prNumber}-${headRef}`);
}
/**
 * The default name of a CI job's ephemeral branch: `ci/run-<run id>-<run attempt>-<job>`, made safe
 * and shortened exactly like a preview name. Every leg of a matrix shares the job id, so matrix legs
 * must name their branches themselves (the collision check says so).
 */
function ephemeralBranchName(runId, runAttempt, job) {
    return safeBranchName(`ci/run-${runId}-${runAttempt}${job ? `-${job}` : ''}`);
}
/** Lower-cased, unsafe characters replaced, at most {@link MAX_NAME_BYTES} with a hash suffix when cut. */
function safeBranchName(raw) {
    const name = raw.toLowerCase().replace(UNSAFE_CHAR_RE, '-');
    // After sanitizing every character is ASCII, so bytes equal UTF-16 units; measuring bytes keeps that an
    // implementation detail rather than an assumption.
    if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES)
        return name;
    const hash = (0,external_node_crypto_namespaceObject.createHash)('sha256').update(raw, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS);
    const head = name.slice(0, MAX_NAME_BYTES - SUFFIX_BYTES).replace(/[-/]+$/, '');
    return `${head}-${hash}`;
}
/** True for a Neon branch id such as `br-cool-darkness-123456`, as opposed to a branch name. */
function isBranchId(s) {
    return BRANCH_ID_RE.test(s);
}

;// CONCATENATED MODULE: ./src/github/branch-target.ts


/**
 * The branch a run works on: the `branch_name` input when given; with `ephemeral`, the name derived
 * from the run and job (never the pull request's preview name, which would collide with the
 * preview); else the name derived from the pull request. Outside a pull request event there is
 * nothing to derive from, so the input is required; this is checked before any API call.
 */
function resolveBranchName(inputs, ctx) {
    if (inputs.branchName)
        return inputs.branchName;
    if (inputs.ephemeral) {
        if (!ctx.runId) {
            throw new InputError('branch_name', "Input 'branch_name' is required with 'ephemeral: true' outside GitHub Actions: GITHUB_RUN_ID is not " +
                'set, so no ci/run-<run id>-<attempt>-<job> name can be derived.');
        }
        return ephemeralBranchName(ctx.runId, ctx.runAttempt ?? '1', ctx.job);
    }
    if (ctx.pullRequest)
        return previewBranchName(ctx.pullRequest.number, ctx.pullRequest.headRef);
    throw new InputError('branch_name', `Input 'branch_name' is required on '${ctx.eventName || 'unknown'}' events: ` +
        'only pull_request and pull_request_target events name a branch by themselves.');
}

;// CONCATENATED MODULE: ./src/masking/describe.ts
/**
 * How the comment and the summary say what the data is: "anonymized, 3 columns masked". Never the
 * rules themselves: Neon marks their every field x-sensitive, and the comment of a public
 * repository is public.
 */
function describeData(a) {
    const n = a.maskedColumns;
    const columns = n === undefined ? '' : `, ${n} column${n === 1 ? '' : 's'} masked`;
    return `anonymized${columns}${a.remasked ? ' (masked again by this run)' : ''}`;
}
/** How a branch made with Neon's `init_source: schema-only` is described (comment and summary). */
const SCHEMA_ONLY = "schema only: the parent's schema, none of its rows";
/** What a re-created branch's comment and summary say. */
function describeRecreated(previousId) {
    return `yes: Neon cannot reset an anonymized branch, so it was made anew with freshly masked data; its branch id (it was ${previousId}), host and password changed`;
}

;// CONCATENATED MODULE: ./src/neon/usage-text.ts
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
/** `0 B`, `512 B`, `12.0 KiB`, `1.5 GiB`, `2.0 TiB`: binary units, one decimal from KiB up. */
function formatBytes(bytes) {
    if (!(bytes >= 1024))
        return `${Math.max(0, Math.round(bytes))} B`;
    let value = bytes / 1024;
    let unit = 0;
    // Up while the value, rounded to one decimal, would read 1024.0 or more.
    while (unit < UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
        value /= 1024;
        unit++;
    }
    return `${oneDecimal(value)} ${UNITS[unit]}`;
}
/** One decimal; a figure above 0 that would read `0.0` reads `< 0.1` (it is not nothing). */
function oneDecimal(n) {
    return n > 0 && n < 0.05 ? '< 0.1' : n.toFixed(1);
}
/** Compute time as CU-hours: `compute_time_seconds / 3600`, e.g. `2.0 CU-hours`. */
function formatCuHours(computeSeconds) {
    return `${oneDecimal(computeSeconds / 3600)} CU-hours`;
}
/** Seconds as hours, e.g. `3.1 h`. */
function formatHours(seconds) {
    return `${oneDecimal(seconds / 3600)} h`;
}
/**
 * The figures in one line, e.g. `1.5 GiB logical size, 2.0 CU-hours of compute, 3.1 h active,
 * 120.0 MiB written, 5.0 MiB transferred`; only the figures Neon gave; undefined when none.
 */
function describeUsage(u) {
    if (!u)
        return undefined;
    const parts = [];
    if (u.logical_size_bytes !== undefined)
        parts.push(`${formatBytes(u.logical_size_bytes)} logical size`);
    if (u.compute_time_seconds !== undefined)
        parts.push(`${formatCuHours(u.compute_time_seconds)} of compute`);
    if (u.active_time_seconds !== undefined)
        parts.push(`${formatHours(u.active_time_seconds)} active`);
    if (u.written_data_bytes !== undefined)
        parts.push(`${formatBytes(u.written_data_bytes)} written`);
    if (u.data_transfer_bytes !== undefined)
        parts.push(`${formatBytes(u.data_transfer_bytes)} transferred`);
    return parts.length > 0 ? parts.join(', ') : undefined;
}
/**
 * The usage row of the comment and the summary, or undefined when Neon gave no figure. A deleted
 * branch's row says what the preview used (the figures read just before the delete).
 */
function usageRow(u, deleted) {
    const text = describeUsage(u);
    if (text === undefined)
        return undefined;
    return ['Usage', deleted ? `This preview used ${text}` : `${text} so far (as Neon last measured it)`];
}
/** A sweep's totals, e.g. `3 branches: 1.5 GiB logical size, …`. */
function describeFreed(f) {
    const what = `${f.branches} ${f.branches === 1 ? 'branch' : 'branches'}`;
    const figures = describeUsage(f);
    return figures === undefined ? what : `${what}: ${figures}`;
}

;// CONCATENATED MODULE: ./src/util/escape.ts
/**
 * Escaping, in one place, for every place untrusted text goes in what the public reads: the pull
 * request comment (GitHub Markdown), the job summary (Markdown with HTML), and the commands shown in
 * them (POSIX shell). Branch names, refs, titles and schema text come from a pull request or from
 * Neon, and are not ours to trust. Pure. Escaping for workflow commands and the log is
 * util/log-text.ts.
 */
// C0, DEL and C1 control characters: a newline would end a table row or a code span, a blank line
// an HTML block (and let Markdown in).
// eslint-disable-next-line no-control-regex
const escape_CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;
/** Escapes text for HTML element content and attribute values. */
function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
/** HTML-escaped, and every line break a `<br>`: the text cannot end the HTML block it is in. */
function escapeInline(text) {
    return escapeHtml(text).replace(/\r\n|\r|\n|\u2028|\u2029/g, '<br>');
}
/**
 * Escapes text for HTML and, on top, the characters Markdown gives a meaning to (emphasis, code,
 * links, tables, mentions), as numeric character references: GitHub reads a job summary as
 * Markdown with HTML in it, and whatever a name holds must show as it is, inert.
 */
function escapeMarkdownHtml(text) {
    return text.replace(escape_CONTROL_RE, ' ').replace(/[&<>"'\\`*_[\]~|@#!()]/g, (c) => `&#${c.charCodeAt(0)};`);
}
/**
 * Text as an inline code span: Markdown, HTML, autolinks and @-mentions are all inert inside one.
 * The fence is longer than any run of backticks in the text, so the text cannot close it.
 */
function codeSpan(text) {
    const clean = text.replace(escape_CONTROL_RE, ' ');
    const fence = '`'.repeat(longestRun(clean, '`', 0) + 1);
    const pad = clean.startsWith('`') || clean.endsWith('`') || clean === '' ? ' ' : '';
    return `${fence}${pad}${clean}${pad}${fence}`;
}
/** A fenced code block whose fence no line of the text can close. */
function codeBlock(text, lang = '') {
    const fence = '`'.repeat(longestRun(text, '`', 2) + 1);
    return `${fence}${lang}\n${text.replace(/\r\n?/g, '\n')}\n${fence}`;
}
/** The longest run of `ch` in `text`, at least `min`; a loop, as a schema diff can be megabytes. */
function longestRun(text, ch, min) {
    let longest = min;
    let run = 0;
    for (let i = 0; i < text.length; i++) {
        run = text[i] === ch ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    return longest;
}
// In a GFM table `|` splits cells even inside a code span unless escaped; `\|` is kept as `|` there.
function tableCell(text) {
    return text.replace(/\|/g, '\\|');
}
/** POSIX single-quoting when the word has anything but safe characters. */
function shellQuote(word) {
    return /^[A-Za-z0-9._/:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

;// CONCATENATED MODULE: ./src/modes/schema-too-large.ts
/**
 * The sentence the log, the comment and the summary give a diff too large to compute (plain
 * text: each place escapes it for where it goes). Pure.
 */
function tooLargeText(t) {
    const n = (k) => k.toLocaleString('en-US');
    const size = (s) => `${n(s.lines)} ${s.lines === 1 ? 'line' : 'lines'} (${n(s.chars)} characters)`;
    return (`the base's schema has ${size(t.base)}, the branch's ${size(t.branch)}; the diff has more than ` +
        `${n(t.maxChangedLines)} changed lines or would not finish within what was left of the step's ` +
        "'timeout'. Compare them with `neonctl branches schema-diff` where time allows.");
}

;// CONCATENATED MODULE: ./node_modules/diff/lib/index.mjs
function Diff() {}
Diff.prototype = {
  diff: function diff(oldString, newString) {
    var _options$timeout;

    var options = arguments.length > 2 && arguments[2] !== undefined ? arguments[2] : {};
    var callback = options.callback;

    if (typeof options === 'function') {
      callback = options;
      options = {};
    }

    this.options = options;
    var self = this;

    function done(value) {
      if (callback) {
        setTimeout(function () {
          callback(undefined, value);
        }, 0);
        return true;
      } else {
        return value;
      }
    } // Allow subclasses to massage the input prior to running


    oldString = this.castInput(oldString);
    newString = this.castInput(newString);
    oldString = this.removeEmpty(this.tokenize(oldString));
    newString = this.removeEmpty(this.tokenize(newString));
    var newLen = newString.length,
        oldLen = oldString.length;
    var editLength = 1;
    var maxEditLength = newLen + oldLen;

    if (options.maxEditLength) {
      maxEditLength = Math.min(maxEditLength, options.maxEditLength);
    }

    var maxExecutionTime = (_options$timeout = options.timeout) !== null && _options$timeout !== void 0 ? _options$timeout : Infinity;
    var abortAfterTimestamp = Date.now() + maxExecutionTime;
    var bestPath = [{
      oldPos: -1,
      lastComponent: undefined
    }]; // Seed editLength = 0, i.e. the content starts with the same values

    var newPos = this.extractCommon(bestPath[0], newString, oldString, 0);

    if (bestPath[0].oldPos + 1 >= oldLen && newPos + 1 >= newLen) {
      // Identity per the equality and tokenizer
      return done([{
        value: this.join(newString),
        count: newString.length
      }]);
    } // Once we hit the right edge of the edit graph on some diagonal k, we can
    // definitely reach the end of the edit graph in no more than k edits, so
    // there's no point in considering any moves to diagonal k+1 any more (from
    // which we're guaranteed to need at least k+1 more edits).
    // Similarly, once we've reached the bottom of the edit graph, there's no
    // point considering moves to lower diagonals.
    // We record this fact by setting minDiagonalToConsider and
    // maxDiagonalToConsider to some finite value once we've hit the edge of
    // the edit graph.
    // This optimization is not faithful to the original algorithm presented in
    // Myers's paper, which instead pointlessly extends D-paths off the end of
    // the edit graph - see page 7 of Myers's paper which notes this point
    // explicitly and illustrates it with a diagram. This has major performance
    // implications for some common scenarios. For instance, to compute a diff
    // where the new text simply appends d characters on the end of the
    // original text of length n, the true Myers algorithm will take O(n+d^2)
    // time while this optimization needs only O(n+d) time.


    var minDiagonalToConsider = -Infinity,
        maxDiagonalToConsider = Infinity; // Main worker method. checks all permutations of a given edit length for acceptance.

    function execEditLength() {
      for (var diagonalPath = Math.max(minDiagonalToConsider, -editLength); diagonalPath <= Math.min(maxDiagonalToConsider, editLength); diagonalPath += 2) {
        var basePath = void 0;
        var removePath = bestPath[diagonalPath - 1],
            addPath = bestPath[diagonalPath + 1];

        if (removePath) {
          // No one else is going to attempt to use this value, clear it
          bestPath[diagonalPath - 1] = undefined;
        }

        var canAdd = false;

        if (addPath) {
          // what newPos will be after we do an insertion:
          var addPathNewPos = addPath.oldPos - diagonalPath;
          canAdd = addPath && 0 <= addPathNewPos && addPathNewPos < newLen;
        }

        var canRemove = removePath && removePath.oldPos + 1 < oldLen;

        if (!canAdd && !canRemove) {
          // If this path is a terminal then prune
          bestPath[diagonalPath] = undefined;
          continue;
        } // Select the diagonal that we want to branch from. We select the prior
        // path whose position in the old string is the farthest from the origin
        // and does not pass the bounds of the diff graph
        // TODO: Remove the `+ 1` here to make behavior match Myers algorithm
        //       and prefer to order removals before insertions.


        if (!canRemove || canAdd && removePath.oldPos + 1 < addPath.oldPos) {
          basePath = self.addToPath(addPath, true, undefined, 0);
        } else {
          basePath = self.addToPath(removePath, undefined, true, 1);
        }

        newPos = self.extractCommon(basePath, newString, oldString, diagonalPath);

        if (basePath.oldPos + 1 >= oldLen && newPos + 1 >= newLen) {
          // If we have hit the end of both strings, then we are done
          return done(buildValues(self, basePath.lastComponent, newString, oldString, self.useLongestToken));
        } else {
          bestPath[diagonalPath] = basePath;

          if (basePath.oldPos + 1 >= oldLen) {
            maxDiagonalToConsider = Math.min(maxDiagonalToConsider, diagonalPath - 1);
          }

          if (newPos + 1 >= newLen) {
            minDiagonalToConsider = Math.max(minDiagonalToConsider, diagonalPath + 1);
          }
        }
      }

      editLength++;
    } // Performs the length of edit iteration. Is a bit fugly as this has to support the
    // sync and async mode which is never fun. Loops over execEditLength until a value
    // is produced, or until the edit length exceeds options.maxEditLength (if given),
    // in which case it will return undefined.


    if (callback) {
      (function exec() {
        setTimeout(function () {
          if (editLength > maxEditLength || Date.now() > abortAfterTimestamp) {
            return callback();
          }

          if (!execEditLength()) {
            exec();
          }
        }, 0);
      })();
    } else {
      while (editLength <= maxEditLength && Date.now() <= abortAfterTimestamp) {
        var ret = execEditLength();

        if (ret) {
          return ret;
        }
      }
    }
  },
  addToPath: function addToPath(path, added, removed, oldPosInc) {
    var last = path.lastComponent;

    if (last && last.added === added && last.removed === removed) {
      return {
        oldPos: path.oldPos + oldPosInc,
        lastComponent: {
          count: last.count + 1,
          added: added,
          removed: removed,
          previousComponent: last.previousComponent
        }
      };
    } else {
      return {
        oldPos: path.oldPos + oldPosInc,
        lastComponent: {
          count: 1,
          added: added,
          removed: removed,
          previousComponent: last
        }
      };
    }
  },
  extractCommon: function extractCommon(basePath, newString, oldString, diagonalPath) {
    var newLen = newString.length,
        oldLen = oldString.length,
        oldPos = basePath.oldPos,
        newPos = oldPos - diagonalPath,
        commonCount = 0;

    while (newPos + 1 < newLen && oldPos + 1 < oldLen && this.equals(newString[newPos + 1], oldString[oldPos + 1])) {
      newPos++;
      oldPos++;
      commonCount++;
    }

    if (commonCount) {
      basePath.lastComponent = {
        count: commonCount,
        previousComponent: basePath.lastComponent
      };
    }

    basePath.oldPos = oldPos;
    return newPos;
  },
  equals: function equals(left, right) {
    if (this.options.comparator) {
      return this.options.comparator(left, right);
    } else {
      return left === right || this.options.ignoreCase && left.toLowerCase() === right.toLowerCase();
    }
  },
  removeEmpty: function removeEmpty(array) {
    var ret = [];

    for (var i = 0; i < array.length; i++) {
      if (array[i]) {
        ret.push(array[i]);
      }
    }

    return ret;
  },
  castInput: function castInput(value) {
    return value;
  },
  tokenize: function tokenize(value) {
    return value.split('');
  },
  join: function join(chars) {
    return chars.join('');
  }
};

function buildValues(diff, lastComponent, newString, oldString, useLongestToken) {
  // First we convert our linked list of components in reverse order to an
  // array in the right order:
  var components = [];
  var nextComponent;

  while (lastComponent) {
    components.push(lastComponent);
    nextComponent = lastComponent.previousComponent;
    delete lastComponent.previousComponent;
    lastComponent = nextComponent;
  }

  components.reverse();
  var componentPos = 0,
      componentLen = components.length,
      newPos = 0,
      oldPos = 0;

  for (; componentPos < componentLen; componentPos++) {
    var component = components[componentPos];

    if (!component.removed) {
      if (!component.added && useLongestToken) {
        var value = newString.slice(newPos, newPos + component.count);
        value = value.map(function (value, i) {
          var oldValue = oldString[oldPos + i];
          return oldValue.length > value.length ? oldValue : value;
        });
        component.value = diff.join(value);
      } else {
        component.value = diff.join(newString.slice(newPos, newPos + component.count));
      }

      newPos += component.count; // Common case

      if (!component.added) {
        oldPos += component.count;
      }
    } else {
      component.value = diff.join(oldString.slice(oldPos, oldPos + component.count));
      oldPos += component.count; // Reverse add and remove so removes are output first to match common convention
      // The diffing algorithm is tied to add then remove output and this is the simplest
      // route to get the desired output with minimal overhead.

      if (componentPos && components[componentPos - 1].added) {
        var tmp = components[componentPos - 1];
        components[componentPos - 1] = components[componentPos];
        components[componentPos] = tmp;
      }
    }
  } // Special case handle for when one terminal is ignored (i.e. whitespace).
  // For this case we merge the terminal into the prior string and drop the change.
  // This is only available for string mode.


  var finalComponent = components[componentLen - 1];

  if (componentLen > 1 && typeof finalComponent.value === 'string' && (finalComponent.added || finalComponent.removed) && diff.equals('', finalComponent.value)) {
    components[componentLen - 2].value += finalComponent.value;
    components.pop();
  }

  return components;
}

var characterDiff = new Diff();
function diffChars(oldStr, newStr, options) {
  return characterDiff.diff(oldStr, newStr, options);
}

function generateOptions(options, defaults) {
  if (typeof options === 'function') {
    defaults.callback = options;
  } else if (options) {
    for (var name in options) {
      /* istanbul ignore else */
      if (options.hasOwnProperty(name)) {
        defaults[name] = options[name];
      }
    }
  }

  return defaults;
}

//
// Ranges and exceptions:
// Latin-1 Supplement, 0080–00FF
//  - U+00D7  × Multiplication sign
//  - U+00F7  ÷ Division sign
// Latin Extended-A, 0100–017F
// Latin Extended-B, 0180–024F
// IPA Extensions, 0250–02AF
// Spacing Modifier Letters, 02B0–02FF
//  - U+02C7  ˇ &#711;  Caron
//  - U+02D8  ˘ &#728;  Breve
//  - U+02D9  ˙ &#729;  Dot Above
//  - U+02DA  ˚ &#730;  Ring Above
//  - U+02DB  ˛ &#731;  Ogonek
//  - U+02DC  ˜ &#732;  Small Tilde
//  - U+02DD  ˝ &#733;  Double Acute Accent
// Latin Extended Additional, 1E00–1EFF

var extendedWordChars = /^[A-Za-z\xC0-\u02C6\u02C8-\u02D7\u02DE-\u02FF\u1E00-\u1EFF]+$/;
var reWhitespace = /\S/;
var wordDiff = new Diff();

wordDiff.equals = function (left, right) {
  if (this.options.ignoreCase) {
    left = left.toLowerCase();
    right = right.toLowerCase();
  }

  return left === right || this.options.ignoreWhitespace && !reWhitespace.test(left) && !reWhitespace.test(right);
};

wordDiff.tokenize = function (value) {
  // All whitespace symbols except newline group into one token, each newline - in separate token
  var tokens = value.split(/([^\S\r\n]+|[()[\]{}'"\r\n]|\b)/); // Join the boundary splits that we do not consider to be boundaries. This is primarily the extended Latin character set.

  for (var i = 0; i < tokens.length - 1; i++) {
    // If we have an empty string in the next field and we have only word chars before and after, merge
    if (!tokens[i + 1] && tokens[i + 2] && extendedWordChars.test(tokens[i]) && extendedWordChars.test(tokens[i + 2])) {
      tokens[i] += tokens[i + 2];
      tokens.splice(i + 1, 2);
      i--;
    }
  }

  return tokens;
};

function diffWords(oldStr, newStr, options) {
  options = generateOptions(options, {
    ignoreWhitespace: true
  });
  return wordDiff.diff(oldStr, newStr, options);
}
function diffWordsWithSpace(oldStr, newStr, options) {
  return wordDiff.diff(oldStr, newStr, options);
}

var lineDiff = new Diff();

lineDiff.tokenize = function (value) {
  if (this.options.stripTrailingCr) {
    // remove one \r before \n to match GNU diff's --strip-trailing-cr behavior
    value = value.replace(/\r\n/g, '\n');
  }

  var retLines = [],
      linesAndNewlines = value.split(/(\n|\r\n)/); // Ignore the final empty token that occurs if the string ends with a new line

  if (!linesAndNewlines[linesAndNewlines.length - 1]) {
    linesAndNewlines.pop();
  } // Merge the content and line separators into single tokens


  for (var i = 0; i < linesAndNewlines.length; i++) {
    var line = linesAndNewlines[i];

    if (i % 2 && !this.options.newlineIsToken) {
      retLines[retLines.length - 1] += line;
    } else {
      if (this.options.ignoreWhitespace) {
        line = line.trim();
      }

      retLines.push(line);
    }
  }

  return retLines;
};

function diffLines(oldStr, newStr, callback) {
  return lineDiff.diff(oldStr, newStr, callback);
}
function diffTrimmedLines(oldStr, newStr, callback) {
  var options = generateOptions(callback, {
    ignoreWhitespace: true
  });
  return lineDiff.diff(oldStr, newStr, options);
}

var sentenceDiff = new Diff();

sentenceDiff.tokenize = function (value) {
  return value.split(/(\S.+?[.!?])(?=\s+|$)/);
};

function diffSentences(oldStr, newStr, callback) {
  return sentenceDiff.diff(oldStr, newStr, callback);
}

var cssDiff = new Diff();

cssDiff.tokenize = function (value) {
  return value.split(/([{}:;,]|\s+)/);
};

function diffCss(oldStr, newStr, callback) {
  return cssDiff.diff(oldStr, newStr, callback);
}

function _typeof(obj) {
  "@babel/helpers - typeof";

  if (typeof Symbol === "function" && typeof Symbol.iterator === "symbol") {
    _typeof = function (obj) {
      return typeof obj;
    };
  } else {
    _typeof = function (obj) {
      return obj && typeof Symbol === "function" && obj.constructor === Symbol && obj !== Symbol.prototype ? "symbol" : typeof obj;
    };
  }

  return _typeof(obj);
}

function _defineProperty(obj, key, value) {
  if (key in obj) {
    Object.defineProperty(obj, key, {
      value: value,
      enumerable: true,
      configurable: true,
      writable: true
    });
  } else {
    obj[key] = value;
  }

  return obj;
}

function ownKeys(object, enumerableOnly) {
  var keys = Object.keys(object);

  if (Object.getOwnPropertySymbols) {
    var symbols = Object.getOwnPropertySymbols(object);
    if (enumerableOnly) symbols = symbols.filter(function (sym) {
      return Object.getOwnPropertyDescriptor(object, sym).enumerable;
    });
    keys.push.apply(keys, symbols);
  }

  return keys;
}

function _objectSpread2(target) {
  for (var i = 1; i < arguments.length; i++) {
    var source = arguments[i] != null ? arguments[i] : {};

    if (i % 2) {
      ownKeys(Object(source), true).forEach(function (key) {
        _defineProperty(target, key, source[key]);
      });
    } else if (Object.getOwnPropertyDescriptors) {
      Object.defineProperties(target, Object.getOwnPropertyDescriptors(source));
    } else {
      ownKeys(Object(source)).forEach(function (key) {
        Object.defineProperty(target, key, Object.getOwnPropertyDescriptor(source, key));
      });
    }
  }

  return target;
}

function _toConsumableArray(arr) {
  return _arrayWithoutHoles(arr) || _iterableToArray(arr) || _unsupportedIterableToArray(arr) || _nonIterableSpread();
}

function _arrayWithoutHoles(arr) {
  if (Array.isArray(arr)) return _arrayLikeToArray(arr);
}

function _iterableToArray(iter) {
  if (typeof Symbol !== "undefined" && Symbol.iterator in Object(iter)) return Array.from(iter);
}

function _unsupportedIterableToArray(o, minLen) {
  if (!o) return;
  if (typeof o === "string") return _arrayLikeToArray(o, minLen);
  var n = Object.prototype.toString.call(o).slice(8, -1);
  if (n === "Object" && o.constructor) n = o.constructor.name;
  if (n === "Map" || n === "Set") return Array.from(o);
  if (n === "Arguments" || /^(?:Ui|I)nt(?:8|16|32)(?:Clamped)?Array$/.test(n)) return _arrayLikeToArray(o, minLen);
}

function _arrayLikeToArray(arr, len) {
  if (len == null || len > arr.length) len = arr.length;

  for (var i = 0, arr2 = new Array(len); i < len; i++) arr2[i] = arr[i];

  return arr2;
}

function _nonIterableSpread() {
  throw new TypeError("Invalid attempt to spread non-iterable instance.\nIn order to be iterable, non-array objects must have a [Symbol.iterator]() method.");
}

var objectPrototypeToString = Object.prototype.toString;
var jsonDiff = new Diff(); // Discriminate between two lines of pretty-printed, serialized JSON where one of them has a
// dangling comma and the other doesn't. Turns out including the dangling comma yields the nicest output:

jsonDiff.useLongestToken = true;
jsonDiff.tokenize = lineDiff.tokenize;

jsonDiff.castInput = function (value) {
  var _this$options = this.options,
      undefinedReplacement = _this$options.undefinedReplacement,
      _this$options$stringi = _this$options.stringifyReplacer,
      stringifyReplacer = _this$options$stringi === void 0 ? function (k, v) {
    return typeof v === 'undefined' ? undefinedReplacement : v;
  } : _this$options$stringi;
  return typeof value === 'string' ? value : JSON.stringify(canonicalize(value, null, null, stringifyReplacer), stringifyReplacer, '  ');
};

jsonDiff.equals = function (left, right) {
  return Diff.prototype.equals.call(jsonDiff, left.replace(/,([\r\n])/g, '$1'), right.replace(/,([\r\n])/g, '$1'));
};

function diffJson(oldObj, newObj, options) {
  return jsonDiff.diff(oldObj, newObj, options);
} // This function handles the presence of circular references by bailing out when encountering an
// object that is already on the "stack" of items being processed. Accepts an optional replacer

function canonicalize(obj, stack, replacementStack, replacer, key) {
  stack = stack || [];
  replacementStack = replacementStack || [];

  if (replacer) {
    obj = replacer(key, obj);
  }

  var i;

  for (i = 0; i < stack.length; i += 1) {
    if (stack[i] === obj) {
      return replacementStack[i];
    }
  }

  var canonicalizedObj;

  if ('[object Array]' === objectPrototypeToString.call(obj)) {
    stack.push(obj);
    canonicalizedObj = new Array(obj.length);
    replacementStack.push(canonicalizedObj);

    for (i = 0; i < obj.length; i += 1) {
      canonicalizedObj[i] = canonicalize(obj[i], stack, replacementStack, replacer, key);
    }

    stack.pop();
    replacementStack.pop();
    return canonicalizedObj;
  }

  if (obj && obj.toJSON) {
    obj = obj.toJSON();
  }

  if (_typeof(obj) === 'object' && obj !== null) {
    stack.push(obj);
    canonicalizedObj = {};
    replacementStack.push(canonicalizedObj);

    var sortedKeys = [],
        _key;

    for (_key in obj) {
      /* istanbul ignore else */
      if (obj.hasOwnProperty(_key)) {
        sortedKeys.push(_key);
      }
    }

    sortedKeys.sort();

    for (i = 0; i < sortedKeys.length; i += 1) {
      _key = sortedKeys[i];
      canonicalizedObj[_key] = canonicalize(obj[_key], stack, replacementStack, replacer, _key);
    }

    stack.pop();
    replacementStack.pop();
  } else {
    canonicalizedObj = obj;
  }

  return canonicalizedObj;
}

var arrayDiff = new Diff();

arrayDiff.tokenize = function (value) {
  return value.slice();
};

arrayDiff.join = arrayDiff.removeEmpty = function (value) {
  return value;
};

function diffArrays(oldArr, newArr, callback) {
  return arrayDiff.diff(oldArr, newArr, callback);
}

function parsePatch(uniDiff) {
  var options = arguments.length > 1 && arguments[1] !== undefined ? arguments[1] : {};
  var diffstr = uniDiff.split(/\r\n|[\n\v\f\r\x85]/),
      delimiters = uniDiff.match(/\r\n|[\n\v\f\r\x85]/g) || [],
      list = [],
      i = 0;

  function parseIndex() {
    var index = {};
    list.push(index); // Parse diff metadata

    while (i < diffstr.length) {
      var line = diffstr[i]; // File header found, end parsing diff metadata

      if (/^(\-\-\-|\+\+\+|@@)\s/.test(line)) {
        break;
      } // Diff index


      var headerMatch = /^(?:Index:|diff(?: -r \w+)+)\s+/.exec(line);

      if (headerMatch) {
        index.index = line.substring(headerMatch[0].length).trim();
      }

      i++;
    } // Parse file headers if they are defined. Unified diff requires them, but
    // there's no technical issues to have an isolated hunk without file header


    parseFileHeader(index);
    parseFileHeader(index); // Parse hunks

    index.hunks = [];

    while (i < diffstr.length) {
      var _line = diffstr[i];

      if (/^(Index:|diff|\-\-\-|\+\+\+)\s/.test(_line)) {
        break;
      } else if (/^@@/.test(_line)) {
        index.hunks.push(parseHunk());
      } else if (_line && options.strict) {
        // Ignore unexpected content unless in strict mode
        throw new Error('Unknown line ' + (i + 1) + ' ' + JSON.stringify(_line));
      } else {
        i++;
      }
    }
  } // Parses the --- and +++ headers, if none are found, no lines
  // are consumed.


  function parseFileHeader(index) {
    var fileHeaderMatch = /^(---|\+\+\+)\s+/.exec(diffstr[i]);

    if (fileHeaderMatch) {
      var keyPrefix = fileHeaderMatch[1] === '---' ? 'old' : 'new';
      var data = diffstr[i].substring(3).trim().split('\t', 2);
      var fileName = data[0].replace(/\\\\/g, '\\');

      if (fileName.startsWith('"') && fileName.endsWith('"')) {
        fileName = fileName.substr(1, fileName.length - 2);
      }

      index[keyPrefix + 'FileName'] = fileName;
      index[keyPrefix + 'Header'] = (data[1] || '').trim();
      i++;
    }
  } // Parses a hunk
  // This assumes that we are at the start of a hunk.


  function parseHunk() {
    var chunkHeaderIndex = i,
        chunkHeaderLine = diffstr[i++],
        chunkHeader = chunkHeaderLine.split(/@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/);
    var hunk = {
      oldStart: +chunkHeader[1],
      oldLines: typeof chunkHeader[2] === 'undefined' ? 1 : +chunkHeader[2],
      newStart: +chunkHeader[3],
      newLines: typeof chunkHeader[4] === 'undefined' ? 1 : +chunkHeader[4],
      lines: [],
      linedelimiters: []
    }; // Unified Diff Format quirk: If the chunk size is 0,
    // the first number is one lower than one would expect.
    // https://www.artima.com/weblogs/viewpost.jsp?thread=164293

    if (hunk.oldLines === 0) {
      hunk.oldStart += 1;
    }

    if (hunk.newLines === 0) {
      hunk.newStart += 1;
    }

    var addCount = 0,
        removeCount = 0;

    for (; i < diffstr.length; i++) {
      // Lines starting with '---' could be mistaken for the "remove line" operation
      // But they could be the header for the next file. Therefore prune such cases out.
      if (diffstr[i].indexOf('--- ') === 0 && i + 2 < diffstr.length && diffstr[i + 1].indexOf('+++ ') === 0 && diffstr[i + 2].indexOf('@@') === 0) {
        break;
      }

      var operation = diffstr[i].length == 0 && i != diffstr.length - 1 ? ' ' : diffstr[i][0];

      if (operation === '+' || operation === '-' || operation === ' ' || operation === '\\') {
        hunk.lines.push(diffstr[i]);
        hunk.linedelimiters.push(delimiters[i] || '\n');

        if (operation === '+') {
          addCount++;
        } else if (operation === '-') {
          removeCount++;
        } else if (operation === ' ') {
          addCount++;
          removeCount++;
        }
      } else {
        break;
      }
    } // Handle the empty block count case


    if (!addCount && hunk.newLines === 1) {
      hunk.newLines = 0;
    }

    if (!removeCount && hunk.oldLines === 1) {
      hunk.oldLines = 0;
    } // Perform optional sanity checking


    if (options.strict) {
      if (addCount !== hunk.newLines) {
        throw new Error('Added line count did not match for hunk at line ' + (chunkHeaderIndex + 1));
      }

      if (removeCount !== hunk.oldLines) {
        throw new Error('Removed line count did not match for hunk at line ' + (chunkHeaderIndex + 1));
      }
    }

    return hunk;
  }

  while (i < diffstr.length) {
    parseIndex();
  }

  return list;
}

// Iterator that traverses in the range of [min, max], stepping
// by distance from a given start position. I.e. for [0, 4], with
// start of 2, this will iterate 2, 3, 1, 4, 0.
function distanceIterator (start, minLine, maxLine) {
  var wantForward = true,
      backwardExhausted = false,
      forwardExhausted = false,
      localOffset = 1;
  return function iterator() {
    if (wantForward && !forwardExhausted) {
      if (backwardExhausted) {
        localOffset++;
      } else {
        wantForward = false;
      } // Check if trying to fit beyond text length, and if not, check it fits
      // after offset location (or desired location on first iteration)


      if (start + localOffset <= maxLine) {
        return localOffset;
      }

      forwardExhausted = true;
    }

    if (!backwardExhausted) {
      if (!forwardExhausted) {
        wantForward = true;
      } // Check if trying to fit before text beginning, and if not, check it fits
      // before offset location


      if (minLine <= start - localOffset) {
        return -localOffset++;
      }

      backwardExhausted = true;
      return iterator();
    } // We tried to fit hunk before text beginning and beyond text length, then
    // hunk can't fit on the text. Return undefined

  };
}

function applyPatch(source, uniDiff) {
  var options = arguments.length > 2 && arguments[2] !== undefined ? arguments[2] : {};

  if (typeof uniDiff === 'string') {
    uniDiff = parsePatch(uniDiff);
  }

  if (Array.isArray(uniDiff)) {
    if (uniDiff.length > 1) {
      throw new Error('applyPatch only works with a single input.');
    }

    uniDiff = uniDiff[0];
  } // Apply the diff to the input


  var lines = source.split(/\r\n|[\n\v\f\r\x85]/),
      delimiters = source.match(/\r\n|[\n\v\f\r\x85]/g) || [],
      hunks = uniDiff.hunks,
      compareLine = options.compareLine || function (lineNumber, line, operation, patchContent) {
    return line === patchContent;
  },
      errorCount = 0,
      fuzzFactor = options.fuzzFactor || 0,
      minLine = 0,
      offset = 0,
      removeEOFNL,
      addEOFNL;
  /**
   * Checks if the hunk exactly fits on the provided location
   */


  function hunkFits(hunk, toPos) {
    for (var j = 0; j < hunk.lines.length; j++) {
      var line = hunk.lines[j],
          operation = line.length > 0 ? line[0] : ' ',
          content = line.length > 0 ? line.substr(1) : line;

      if (operation === ' ' || operation === '-') {
        // Context sanity check
        if (!compareLine(toPos + 1, lines[toPos], operation, content)) {
          errorCount++;

          if (errorCount > fuzzFactor) {
            return false;
          }
        }

        toPos++;
      }
    }

    return true;
  } // Search best fit offsets for each hunk based on the previous ones


  for (var i = 0; i < hunks.length; i++) {
    var hunk = hunks[i],
        maxLine = lines.length - hunk.oldLines,
        localOffset = 0,
        toPos = offset + hunk.oldStart - 1;
    var iterator = distanceIterator(toPos, minLine, maxLine);

    for (; localOffset !== undefined; localOffset = iterator()) {
      if (hunkFits(hunk, toPos + localOffset)) {
        hunk.offset = offset += localOffset;
        break;
      }
    }

    if (localOffset === undefined) {
      return false;
    } // Set lower text limit to end of the current hunk, so next ones don't try
    // to fit over already patched text


    minLine = hunk.offset + hunk.oldStart + hunk.oldLines;
  } // Apply patch hunks


  var diffOffset = 0;

  for (var _i = 0; _i < hunks.length; _i++) {
    var _hunk = hunks[_i],
        _toPos = _hunk.oldStart + _hunk.offset + diffOffset - 1;

    diffOffset += _hunk.newLines - _hunk.oldLines;

    for (var j = 0; j < _hunk.lines.length; j++) {
      var line = _hunk.lines[j],
          operation = line.length > 0 ? line[0] : ' ',
          content = line.length > 0 ? line.substr(1) : line,
          delimiter = _hunk.linedelimiters && _hunk.linedelimiters[j] || '\n';

      if (operation === ' ') {
        _toPos++;
      } else if (operation === '-') {
        lines.splice(_toPos, 1);
        delimiters.splice(_toPos, 1);
        /* istanbul ignore else */
      } else if (operation === '+') {
        lines.splice(_toPos, 0, content);
        delimiters.splice(_toPos, 0, delimiter);
        _toPos++;
      } else if (operation === '\\') {
        var previousOperation = _hunk.lines[j - 1] ? _hunk.lines[j - 1][0] : null;

        if (previousOperation === '+') {
          removeEOFNL = true;
        } else if (previousOperation === '-') {
          addEOFNL = true;
        }
      }
    }
  } // Handle EOFNL insertion/removal


  if (removeEOFNL) {
    while (!lines[lines.length - 1]) {
      lines.pop();
      delimiters.pop();
    }
  } else if (addEOFNL) {
    lines.push('');
    delimiters.push('\n');
  }

  for (var _k = 0; _k < lines.length - 1; _k++) {
    lines[_k] = lines[_k] + delimiters[_k];
  }

  return lines.join('');
} // Wrapper that supports multiple file patches via callbacks.

function applyPatches(uniDiff, options) {
  if (typeof uniDiff === 'string') {
    uniDiff = parsePatch(uniDiff);
  }

  var currentIndex = 0;

  function processIndex() {
    var index = uniDiff[currentIndex++];

    if (!index) {
      return options.complete();
    }

    options.loadFile(index, function (err, data) {
      if (err) {
        return options.complete(err);
      }

      var updatedContent = applyPatch(data, index, options);
      options.patched(index, updatedContent, function (err) {
        if (err) {
          return options.complete(err);
        }

        processIndex();
      });
    });
  }

  processIndex();
}

function structuredPatch(oldFileName, newFileName, oldStr, newStr, oldHeader, newHeader, options) {
  if (!options) {
    options = {};
  }

  if (typeof options.context === 'undefined') {
    options.context = 4;
  }

  var diff = diffLines(oldStr, newStr, options);

  if (!diff) {
    return;
  }

  diff.push({
    value: '',
    lines: []
  }); // Append an empty value to make cleanup easier

  function contextLines(lines) {
    return lines.map(function (entry) {
      return ' ' + entry;
    });
  }

  var hunks = [];
  var oldRangeStart = 0,
      newRangeStart = 0,
      curRange = [],
      oldLine = 1,
      newLine = 1;

  var _loop = function _loop(i) {
    var current = diff[i],
        lines = current.lines || current.value.replace(/\n$/, '').split('\n');
    current.lines = lines;

    if (current.added || current.removed) {
      var _curRange;

      // If we have previous context, start with that
      if (!oldRangeStart) {
        var prev = diff[i - 1];
        oldRangeStart = oldLine;
        newRangeStart = newLine;

        if (prev) {
          curRange = options.context > 0 ? contextLines(prev.lines.slice(-options.context)) : [];
          oldRangeStart -= curRange.length;
          newRangeStart -= curRange.length;
        }
      } // Output our changes


      (_curRange = curRange).push.apply(_curRange, _toConsumableArray(lines.map(function (entry) {
        return (current.added ? '+' : '-') + entry;
      }))); // Track the updated file position


      if (current.added) {
        newLine += lines.length;
      } else {
        oldLine += lines.length;
      }
    } else {
      // Identical context lines. Track line changes
      if (oldRangeStart) {
        // Close out any changes that have been output (or join overlapping)
        if (lines.length <= options.context * 2 && i < diff.length - 2) {
          var _curRange2;

          // Overlapping
          (_curRange2 = curRange).push.apply(_curRange2, _toConsumableArray(contextLines(lines)));
        } else {
          var _curRange3;

          // end the range and output
          var contextSize = Math.min(lines.length, options.context);

          (_curRange3 = curRange).push.apply(_curRange3, _toConsumableArray(contextLines(lines.slice(0, contextSize))));

          var hunk = {
            oldStart: oldRangeStart,
            oldLines: oldLine - oldRangeStart + contextSize,
            newStart: newRangeStart,
            newLines: newLine - newRangeStart + contextSize,
            lines: curRange
          };

          if (i >= diff.length - 2 && lines.length <= options.context) {
            // EOF is inside this hunk
            var oldEOFNewline = /\n$/.test(oldStr);
            var newEOFNewline = /\n$/.test(newStr);
            var noNlBeforeAdds = lines.length == 0 && curRange.length > hunk.oldLines;

            if (!oldEOFNewline && noNlBeforeAdds && oldStr.length > 0) {
              // special case: old has no eol and no trailing context; no-nl can end up before adds
              // however, if the old file is empty, do not output the no-nl line
              curRange.splice(hunk.oldLines, 0, '\\ No newline at end of file');
            }

            if (!oldEOFNewline && !noNlBeforeAdds || !newEOFNewline) {
              curRange.push('\\ No newline at end of file');
            }
          }

          hunks.push(hunk);
          oldRangeStart = 0;
          newRangeStart = 0;
          curRange = [];
        }
      }

      oldLine += lines.length;
      newLine += lines.length;
    }
  };

  for (var i = 0; i < diff.length; i++) {
    _loop(i);
  }

  return {
    oldFileName: oldFileName,
    newFileName: newFileName,
    oldHeader: oldHeader,
    newHeader: newHeader,
    hunks: hunks
  };
}
function formatPatch(diff) {
  if (Array.isArray(diff)) {
    return diff.map(formatPatch).join('\n');
  }

  var ret = [];

  if (diff.oldFileName == diff.newFileName) {
    ret.push('Index: ' + diff.oldFileName);
  }

  ret.push('===================================================================');
  ret.push('--- ' + diff.oldFileName + (typeof diff.oldHeader === 'undefined' ? '' : '\t' + diff.oldHeader));
  ret.push('+++ ' + diff.newFileName + (typeof diff.newHeader === 'undefined' ? '' : '\t' + diff.newHeader));

  for (var i = 0; i < diff.hunks.length; i++) {
    var hunk = diff.hunks[i]; // Unified Diff Format quirk: If the chunk size is 0,
    // the first number is one lower than one would expect.
    // https://www.artima.com/weblogs/viewpost.jsp?thread=164293

    if (hunk.oldLines === 0) {
      hunk.oldStart -= 1;
    }

    if (hunk.newLines === 0) {
      hunk.newStart -= 1;
    }

    ret.push('@@ -' + hunk.oldStart + ',' + hunk.oldLines + ' +' + hunk.newStart + ',' + hunk.newLines + ' @@');
    ret.push.apply(ret, hunk.lines);
  }

  return ret.join('\n') + '\n';
}
function createTwoFilesPatch(oldFileName, newFileName, oldStr, newStr, oldHeader, newHeader, options) {
  return formatPatch(structuredPatch(oldFileName, newFileName, oldStr, newStr, oldHeader, newHeader, options));
}
function createPatch(fileName, oldStr, newStr, oldHeader, newHeader, options) {
  return createTwoFilesPatch(fileName, fileName, oldStr, newStr, oldHeader, newHeader, options);
}

function arrayEqual(a, b) {
  if (a.length !== b.length) {
    return false;
  }

  return arrayStartsWith(a, b);
}
function arrayStartsWith(array, start) {
  if (start.length > array.length) {
    return false;
  }

  for (var i = 0; i < start.length; i++) {
    if (start[i] !== array[i]) {
      return false;
    }
  }

  return true;
}

function calcLineCount(hunk) {
  var _calcOldNewLineCount = calcOldNewLineCount(hunk.lines),
      oldLines = _calcOldNewLineCount.oldLines,
      newLines = _calcOldNewLineCount.newLines;

  if (oldLines !== undefined) {
    hunk.oldLines = oldLines;
  } else {
    delete hunk.oldLines;
  }

  if (newLines !== undefined) {
    hunk.newLines = newLines;
  } else {
    delete hunk.newLines;
  }
}
function merge(mine, theirs, base) {
  mine = loadPatch(mine, base);
  theirs = loadPatch(theirs, base);
  var ret = {}; // For index we just let it pass through as it doesn't have any necessary meaning.
  // Leaving sanity checks on this to the API consumer that may know more about the
  // meaning in their own context.

  if (mine.index || theirs.index) {
    ret.index = mine.index || theirs.index;
  }

  if (mine.newFileName || theirs.newFileName) {
    if (!fileNameChanged(mine)) {
      // No header or no change in ours, use theirs (and ours if theirs does not exist)
      ret.oldFileName = theirs.oldFileName || mine.oldFileName;
      ret.newFileName = theirs.newFileName || mine.newFileName;
      ret.oldHeader = theirs.oldHeader || mine.oldHeader;
      ret.newHeader = theirs.newHeader || mine.newHeader;
    } else if (!fileNameChanged(theirs)) {
      // No header or no change in theirs, use ours
      ret.oldFileName = mine.oldFileName;
      ret.newFileName = mine.newFileName;
      ret.oldHeader = mine.oldHeader;
      ret.newHeader = mine.newHeader;
    } else {
      // Both changed... figure it out
      ret.oldFileName = selectField(ret, mine.oldFileName, theirs.oldFileName);
      ret.newFileName = selectField(ret, mine.newFileName, theirs.newFileName);
      ret.oldHeader = selectField(ret, mine.oldHeader, theirs.oldHeader);
      ret.newHeader = selectField(ret, mine.newHeader, theirs.newHeader);
    }
  }

  ret.hunks = [];
  var mineIndex = 0,
      theirsIndex = 0,
      mineOffset = 0,
      theirsOffset = 0;

  while (mineIndex < mine.hunks.length || theirsIndex < theirs.hunks.length) {
    var mineCurrent = mine.hunks[mineIndex] || {
      oldStart: Infinity
    },
        theirsCurrent = theirs.hunks[theirsIndex] || {
      oldStart: Infinity
    };

    if (hunkBefore(mineCurrent, theirsCurrent)) {
      // This patch does not overlap with any of the others, yay.
      ret.hunks.push(cloneHunk(mineCurrent, mineOffset));
      mineIndex++;
      theirsOffset += mineCurrent.newLines - mineCurrent.oldLines;
    } else if (hunkBefore(theirsCurrent, mineCurrent)) {
      // This patch does not overlap with any of the others, yay.
      ret.hunks.push(cloneHunk(theirsCurrent, theirsOffset));
      theirsIndex++;
      mineOffset += theirsCurrent.newLines - theirsCurrent.oldLines;
    } else {
      // Overlap, merge as best we can
      var mergedHunk = {
        oldStart: Math.min(mineCurrent.oldStart, theirsCurrent.oldStart),
        oldLines: 0,
        newStart: Math.min(mineCurrent.newStart + mineOffset, theirsCurrent.oldStart + theirsOffset),
        newLines: 0,
        lines: []
      };
      mergeLines(mergedHunk, mineCurrent.oldStart, mineCurrent.lines, theirsCurrent.oldStart, theirsCurrent.lines);
      theirsIndex++;
      mineIndex++;
      ret.hunks.push(mergedHunk);
    }
  }

  return ret;
}

function loadPatch(param, base) {
  if (typeof param === 'string') {
    if (/^@@/m.test(param) || /^Index:/m.test(param)) {
      return parsePatch(param)[0];
    }

    if (!base) {
      throw new Error('Must provide a base reference or pass in a patch');
    }

    return structuredPatch(undefined, undefined, base, param);
  }

  return param;
}

function fileNameChanged(patch) {
  return patch.newFileName && patch.newFileName !== patch.oldFileName;
}

function selectField(index, mine, theirs) {
  if (mine === theirs) {
    return mine;
  } else {
    index.conflict = true;
    return {
      mine: mine,
      theirs: theirs
    };
  }
}

function hunkBefore(test, check) {
  return test.oldStart < check.oldStart && test.oldStart + test.oldLines < check.oldStart;
}

function cloneHunk(hunk, offset) {
  return {
    oldStart: hunk.oldStart,
    oldLines: hunk.oldLines,
    newStart: hunk.newStart + offset,
    newLines: hunk.newLines,
    lines: hunk.lines
  };
}

function mergeLines(hunk, mineOffset, mineLines, theirOffset, theirLines) {
  // This will generally result in a conflicted hunk, but there are cases where the context
  // is the only overlap where we can successfully merge the content here.
  var mine = {
    offset: mineOffset,
    lines: mineLines,
    index: 0
  },
      their = {
    offset: theirOffset,
    lines: theirLines,
    index: 0
  }; // Handle any leading content

  insertLeading(hunk, mine, their);
  insertLeading(hunk, their, mine); // Now in the overlap content. Scan through and select the best changes from each.

  while (mine.index < mine.lines.length && their.index < their.lines.length) {
    var mineCurrent = mine.lines[mine.index],
        theirCurrent = their.lines[their.index];

    if ((mineCurrent[0] === '-' || mineCurrent[0] === '+') && (theirCurrent[0] === '-' || theirCurrent[0] === '+')) {
      // Both modified ...
      mutualChange(hunk, mine, their);
    } else if (mineCurrent[0] === '+' && theirCurrent[0] === ' ') {
      var _hunk$lines;

      // Mine inserted
      (_hunk$lines = hunk.lines).push.apply(_hunk$lines, _toConsumableArray(collectChange(mine)));
    } else if (theirCurrent[0] === '+' && mineCurrent[0] === ' ') {
      var _hunk$lines2;

      // Theirs inserted
      (_hunk$lines2 = hunk.lines).push.apply(_hunk$lines2, _toConsumableArray(collectChange(their)));
    } else if (mineCurrent[0] === '-' && theirCurrent[0] === ' ') {
      // Mine removed or edited
      removal(hunk, mine, their);
    } else if (theirCurrent[0] === '-' && mineCurrent[0] === ' ') {
      // Their removed or edited
      removal(hunk, their, mine, true);
    } else if (mineCurrent === theirCurrent) {
      // Context identity
      hunk.lines.push(mineCurrent);
      mine.index++;
      their.index++;
    } else {
      // Context mismatch
      conflict(hunk, collectChange(mine), collectChange(their));
    }
  } // Now push anything that may be remaining


  insertTrailing(hunk, mine);
  insertTrailing(hunk, their);
  calcLineCount(hunk);
}

function mutualChange(hunk, mine, their) {
  var myChanges = collectChange(mine),
      theirChanges = collectChange(their);

  if (allRemoves(myChanges) && allRemoves(theirChanges)) {
    // Special case for remove changes that are supersets of one another
    if (arrayStartsWith(myChanges, theirChanges) && skipRemoveSuperset(their, myChanges, myChanges.length - theirChanges.length)) {
      var _hunk$lines3;

      (_hunk$lines3 = hunk.lines).push.apply(_hunk$lines3, _toConsumableArray(myChanges));

      return;
    } else if (arrayStartsWith(theirChanges, myChanges) && skipRemoveSuperset(mine, theirChanges, theirChanges.length - myChanges.length)) {
      var _hunk$lines4;

      (_hunk$lines4 = hunk.lines).push.apply(_hunk$lines4, _toConsumableArray(theirChanges));

      return;
    }
  } else if (arrayEqual(myChanges, theirChanges)) {
    var _hunk$lines5;

    (_hunk$lines5 = hunk.lines).push.apply(_hunk$lines5, _toConsumableArray(myChanges));

    return;
  }

  conflict(hunk, myChanges, theirChanges);
}

function removal(hunk, mine, their, swap) {
  var myChanges = collectChange(mine),
      theirChanges = collectContext(their, myChanges);

  if (theirChanges.merged) {
    var _hunk$lines6;

    (_hunk$lines6 = hunk.lines).push.apply(_hunk$lines6, _toConsumableArray(theirChanges.merged));
  } else {
    conflict(hunk, swap ? theirChanges : myChanges, swap ? myChanges : theirChanges);
  }
}

function conflict(hunk, mine, their) {
  hunk.conflict = true;
  hunk.lines.push({
    conflict: true,
    mine: mine,
    theirs: their
  });
}

function insertLeading(hunk, insert, their) {
  while (insert.offset < their.offset && insert.index < insert.lines.length) {
    var line = insert.lines[insert.index++];
    hunk.lines.push(line);
    insert.offset++;
  }
}

function insertTrailing(hunk, insert) {
  while (insert.index < insert.lines.length) {
    var line = insert.lines[insert.index++];
    hunk.lines.push(line);
  }
}

function collectChange(state) {
  var ret = [],
      operation = state.lines[state.index][0];

  while (state.index < state.lines.length) {
    var line = state.lines[state.index]; // Group additions that are immediately after subtractions and treat them as one "atomic" modify change.

    if (operation === '-' && line[0] === '+') {
      operation = '+';
    }

    if (operation === line[0]) {
      ret.push(line);
      state.index++;
    } else {
      break;
    }
  }

  return ret;
}

function collectContext(state, matchChanges) {
  var changes = [],
      merged = [],
      matchIndex = 0,
      contextChanges = false,
      conflicted = false;

  while (matchIndex < matchChanges.length && state.index < state.lines.length) {
    var change = state.lines[state.index],
        match = matchChanges[matchIndex]; // Once we've hit our add, then we are done

    if (match[0] === '+') {
      break;
    }

    contextChanges = contextChanges || change[0] !== ' ';
    merged.push(match);
    matchIndex++; // Consume any additions in the other block as a conflict to attempt
    // to pull in the remaining context after this

    if (change[0] === '+') {
      conflicted = true;

      while (change[0] === '+') {
        changes.push(change);
        change = state.lines[++state.index];
      }
    }

    if (match.substr(1) === change.substr(1)) {
      changes.push(change);
      state.index++;
    } else {
      conflicted = true;
    }
  }

  if ((matchChanges[matchIndex] || '')[0] === '+' && contextChanges) {
    conflicted = true;
  }

  if (conflicted) {
    return changes;
  }

  while (matchIndex < matchChanges.length) {
    merged.push(matchChanges[matchIndex++]);
  }

  return {
    merged: merged,
    changes: changes
  };
}

function allRemoves(changes) {
  return changes.reduce(function (prev, change) {
    return prev && change[0] === '-';
  }, true);
}

function skipRemoveSuperset(state, removeChanges, delta) {
  for (var i = 0; i < delta; i++) {
    var changeContent = removeChanges[removeChanges.length - delta + i].substr(1);

    if (state.lines[state.index + i] !== ' ' + changeContent) {
      return false;
    }
  }

  state.index += delta;
  return true;
}

function calcOldNewLineCount(lines) {
  var oldLines = 0;
  var newLines = 0;
  lines.forEach(function (line) {
    if (typeof line !== 'string') {
      var myCount = calcOldNewLineCount(line.mine);
      var theirCount = calcOldNewLineCount(line.theirs);

      if (oldLines !== undefined) {
        if (myCount.oldLines === theirCount.oldLines) {
          oldLines += myCount.oldLines;
        } else {
          oldLines = undefined;
        }
      }

      if (newLines !== undefined) {
        if (myCount.newLines === theirCount.newLines) {
          newLines += myCount.newLines;
        } else {
          newLines = undefined;
        }
      }
    } else {
      if (newLines !== undefined && (line[0] === '+' || line[0] === ' ')) {
        newLines++;
      }

      if (oldLines !== undefined && (line[0] === '-' || line[0] === ' ')) {
        oldLines++;
      }
    }
  });
  return {
    oldLines: oldLines,
    newLines: newLines
  };
}

function reversePatch(structuredPatch) {
  if (Array.isArray(structuredPatch)) {
    return structuredPatch.map(reversePatch).reverse();
  }

  return _objectSpread2(_objectSpread2({}, structuredPatch), {}, {
    oldFileName: structuredPatch.newFileName,
    oldHeader: structuredPatch.newHeader,
    newFileName: structuredPatch.oldFileName,
    newHeader: structuredPatch.oldHeader,
    hunks: structuredPatch.hunks.map(function (hunk) {
      return {
        oldLines: hunk.newLines,
        oldStart: hunk.newStart,
        newLines: hunk.oldLines,
        newStart: hunk.oldStart,
        linedelimiters: hunk.linedelimiters,
        lines: hunk.lines.map(function (l) {
          if (l.startsWith('-')) {
            return "+".concat(l.slice(1));
          }

          if (l.startsWith('+')) {
            return "-".concat(l.slice(1));
          }

          return l;
        })
      };
    })
  });
}

// See: http://code.google.com/p/google-diff-match-patch/wiki/API
function convertChangesToDMP(changes) {
  var ret = [],
      change,
      operation;

  for (var i = 0; i < changes.length; i++) {
    change = changes[i];

    if (change.added) {
      operation = 1;
    } else if (change.removed) {
      operation = -1;
    } else {
      operation = 0;
    }

    ret.push([operation, change.value]);
  }

  return ret;
}

function convertChangesToXML(changes) {
  var ret = [];

  for (var i = 0; i < changes.length; i++) {
    var change = changes[i];

    if (change.added) {
      ret.push('<ins>');
    } else if (change.removed) {
      ret.push('<del>');
    }

    ret.push(escapeHTML(change.value));

    if (change.added) {
      ret.push('</ins>');
    } else if (change.removed) {
      ret.push('</del>');
    }
  }

  return ret.join('');
}

function escapeHTML(s) {
  var n = s;
  n = n.replace(/&/g, '&amp;');
  n = n.replace(/</g, '&lt;');
  n = n.replace(/>/g, '&gt;');
  n = n.replace(/"/g, '&quot;');
  return n;
}



;// CONCATENATED MODULE: ./src/util/schema-patch.ts
/**
 * The schema diff as `neonctl branches schema-diff` prints it, and the small amount of reading of
 * unified diffs the comment and the summary need. Pure.
 */

/**
 * What neonctl prints (node_modules/neon/dist/commands/schema_diff.js): jsdiff's createPatch with
 * `Database: <name>` as the file name and `(Branch: <id>[ at <point>])` as each side's header, minus
 * the patch's first two lines (`Index: …` and the `===` rule), which neonctl cuts off before
 * printing. Empty when the schemas are equal (neonctl would still print the `---`/`+++` pair).
 */
function schemaPatch(database, base, compare, baseSql, compareSql) {
    return boundedSchemaPatch(database, base, compare, baseSql, compareSql, {}) ?? '';
}
/**
 * The most work a schema diff may take. The schemas are the pull request's: Myers' algorithm
 * (jsdiff's) costs time in the number of changed lines, squared at worst, and memory with it (a
 * 20,000-line change took 84 s). Past this many changed lines (added plus removed) the diff is
 * not computed; a change that large does not fit the comment anyway. A change whose lines are all
 * new is refused at once (unmatchedLines); one that only moves lines still costs jsdiff seconds
 * before it gives up (7 to 13 s on a busy 2-core machine: `npm run bench:pr-content`), which the
 * step's deadline bounds as well.
 */
const MAX_DIFF_EDIT_LINES = 10_000;
/**
 * schemaPatch within `limits`: undefined when jsdiff gave up (too many changed lines, or out of
 * time). jsdiff 5.2's structuredPatch answers undefined then (its createPatch would throw).
 */
function boundedSchemaPatch(database, base, compare, baseSql, compareSql, limits) {
    if (baseSql === compareSql)
        return '';
    if (limits.timeoutMs !== undefined && limits.timeoutMs <= 0)
        return undefined;
    if (limits.maxEditLength !== undefined && unmatchedLines(baseSql, compareSql) > limits.maxEditLength) {
        return undefined;
    }
    const name = `Database: ${database}`;
    const options = {
        context: 4,
        ...(limits.maxEditLength !== undefined ? { maxEditLength: limits.maxEditLength } : {}),
        // Whole milliseconds, at least one: jsdiff reads 0 as "no timeout".
        ...(limits.timeoutMs !== undefined ? { timeout: Math.max(1, Math.floor(limits.timeoutMs)) } : {}),
    };
    const patch = structuredPatch(name, name, baseSql, compareSql, header(base), header(compare), options);
    if (patch === undefined)
        return undefined;
    // formatPatch writes `Index:` and the `===` rule first, as createPatch does; neonctl cuts them.
    return formatPatch(patch).replace(/^([^\n]+)\n([^\n]+)\n/m, '');
}
/**
 * A lower bound of the changed lines of any diff of `a` and `b`, in one pass: each line's count in
 * one less its count in the other, summed (a line that one side has more often than the other
 * must be added or removed that many times). Past the limit, jsdiff need not even start.
 */
function unmatchedLines(a, b) {
    const counts = new Map();
    for (const line of a.split('\n'))
        counts.set(line, (counts.get(line) ?? 0) + 1);
    for (const line of b.split('\n'))
        counts.set(line, (counts.get(line) ?? 0) - 1);
    let n = 0;
    for (const c of counts.values())
        n += Math.abs(c);
    return n;
}
/** Lines and characters of a text, for a message about a diff too large to compute. */
function textSize(text) {
    let lines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1))
        lines++;
    if (text !== '' && !text.endsWith('\n'))
        lines++;
    return { lines, chars: text.length };
}
function header(side) {
    const point = side.lsn ?? side.timestamp;
    return `(Branch: ${side.branchId}${point !== undefined ? ` at ${point}` : ''})`;
}
/** Lines added and removed by a unified diff (the `---`/`+++` file headers are not changes). */
function countChanges(diff) {
    let added = 0;
    let removed = 0;
    let inHunk = false;
    for (const line of diff.split('\n')) {
        if (line.startsWith('@@'))
            inHunk = true;
        else if (!inHunk)
            continue;
        else if (line.startsWith('+'))
            added++;
        else if (line.startsWith('-'))
            removed++;
    }
    return { added, removed };
}
/**
 * The longest run of whole lines of `text` from its start whose length stays within `max`
 * characters (newlines between them counted), and what was left out.
 */
function cutLines(text, max) {
    const lines = text.split('\n');
    let length = -1;
    let n = 0;
    for (const line of lines) {
        if (length + 1 + line.length > max)
            break;
        length += 1 + line.length;
        n++;
    }
    const kept = lines.slice(0, n).join('\n');
    return { kept, keptLines: n, cutLines: lines.length - n, cutChars: text.length - kept.length };
}

;// CONCATENATED MODULE: ./src/github/schema-section.ts



const SCHEMA_HEADING = '#### Schema changes';
const MAX_ERROR_CHARS = 4_000;
/** `+3 −1`: lines added and removed, for the summary line and the log. */
function changeCounts(c) {
    const n = (k, what) => `${k.toLocaleString('en-US')} ${what}`;
    return `${n(c.added, c.added === 1 ? 'line added' : 'lines added')}, ${n(c.removed, 'removed')}`;
}
/**
 * The section in at most `budget` characters: the heading, then the diff in `<details>` (cut at
 * a line boundary when it does not fit, with a line saying how much was cut and where the rest
 * is), or "No schema changes", or the failure.
 */
function renderSchemaSection(v, budget) {
    const minimal = `${SCHEMA_HEADING}\n\nNot shown: the comment has no room left; see the job summary.`;
    if ('error' in v) {
        const error = v.error.length > MAX_ERROR_CHARS
            ? `${v.error.slice(0, MAX_ERROR_CHARS)}\n… (cut; the full message is in the run log)`
            : v.error;
        const text = `${SCHEMA_HEADING}\n\n**The schema comparison failed:**\n\n${codeBlock(error)}`;
        return text.length <= budget ? text : fit(minimal, budget);
    }
    const c = v.comparison;
    const where = `${codeSpan(c.database)} on ${codeSpan(c.branch.name)}, compared with ${codeSpan(c.base.name)}`;
    if (c.tooLarge) {
        // The action's own sentence (numbers only): nothing in it needs escaping for Markdown.
        const text = `${SCHEMA_HEADING}\n\nSchema of ${where}: **the schemas differ, but the diff was too large to compute**: ${tooLargeText(c.tooLarge)}`;
        return fit(text, budget);
    }
    if (c.diff === '')
        return fit(`${SCHEMA_HEADING}\n\nNo schema changes: ${where}.`, budget);
    const head = `${SCHEMA_HEADING}\n\nSchema of ${where}:\n\n<details><summary>${summaryLine(c)}</summary>\n\n`;
    const tail = '\n\n</details>';
    // A lone CR ends a line for Markdown too: normalized first, so what is measured is what is shown.
    const diff = c.diff.replace(/\r\n?/g, '\n').replace(/\n$/, '');
    const whole = `${head}${codeBlock(diff, 'diff')}${tail}`;
    if (whole.length <= budget)
        return whole;
    // Cut: the fence is measured on the whole diff, so it is long enough for any part of it.
    const fenceOf = (block) => block.indexOf('\n') - 'diff'.length;
    const fenceLength = fenceOf(codeBlock(diff, 'diff'));
    const total = diff.split('\n').length;
    const note = (cut) => `\n\n✂️ ${cut.cutLines.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} diff lines ` +
        `(${cut.cutChars.toLocaleString('en-US')} characters) are not shown: the comment would pass GitHub's ` +
        `65,536-character limit. The full diff is in the job summary and the \`schema_diff\` output.`;
    const frame = head.length + 2 * fenceLength + 'diff'.length + 2 + tail.length;
    // The note's own length depends on the numbers in it; reserve room for the longest it can be.
    const reserve = note({ kept: '', keptLines: 0, cutLines: total, cutChars: diff.length }).length;
    const room = budget - frame - reserve;
    if (room <= 0)
        return fit(minimal, budget);
    const cut = cutLines(diff, room);
    const fence = '`'.repeat(fenceLength);
    return `${head}${fence}diff\n${cut.kept}\n${fence}${note(cut)}${tail}`;
}
function summaryLine(c) {
    return `<b>+${c.added.toLocaleString('en-US')} −${c.removed.toLocaleString('en-US')}</b>: ${escapeHtml(changeCounts(c))} in <code>${escapeHtml(c.database)}</code>`;
}
function fit(text, budget) {
    return text.length <= budget ? text : '';
}

;// CONCATENATED MODULE: ./src/neon/recovery.ts
/** What `recovery` says about a listed branch; undefined for a live one (or a malformed field). */
function recoveryOf(b) {
    // Checked, not trusted: the two times are what a report and a choice are made from.
    const r = b.recovery;
    if (typeof r !== 'object' || r === null)
        return undefined;
    return typeof r.deleted_at === 'string' && typeof r.recoverable_until === 'string'
        ? r
        : undefined;
}
/**
 * True for a branch a listing marks as deleted. Every look-up for live branches drops these: a
 * listing is asked for deleted branches only where they are wanted, but one that carried them
 * anyway must never have a deleted branch adopted, judged or deleted again.
 */
function isDeleted(b) {
    return b.recovery != null;
}
/** Most recently deleted first. */
function byDeletion(a, b) {
    return Date.parse(b.branch.recovery.deleted_at) - Date.parse(a.branch.recovery.deleted_at);
}
/**
 * Until when each of `ids` (branches just deleted) can be recovered, from one paged listing with
 * include_deleted (`search` narrows it: a name, or a prefix every one of them shares). A branch the
 * listing does not show as deleted is left out: Neon does not offer recovery here, or no longer.
 */
async function recoveryWindows(client, projectId, ids, search) {
    const out = new Map();
    if (ids.size === 0)
        return out;
    const { branches } = await client.listBranches(projectId, search, undefined, { includeDeleted: true });
    for (const b of branches) {
        const info = recoveryOf(b);
        if (info && ids.has(b.id))
            out.set(b.id, info);
    }
    return out;
}
/**
 * Every recoverable branch of the project (one paged listing with include_deleted), for the
 * message of a recover that finds nothing by the name it was given.
 */
async function listRecoverable(client, projectId) {
    const { branches, annotations } = await client.listBranches(projectId, undefined, undefined, {
        includeDeleted: true,
    });
    return branches
        .filter((b) => recoveryOf(b) !== undefined)
        .map((branch) => ({ branch, annotation: annotations[branch.id] }));
}

;// CONCATENATED MODULE: ./src/util/log-text.ts
/**
 * Text from outside (Neon's names and messages, GitHub's answers, a recorded state) made safe for
 * the run's log. Pure.
 *
 * The runner reads a step's stdout line by line, and a line is a workflow command when, after its
 * leading whitespace, it starts with `::` (`::add-mask::`, `::stop-commands::`, `::error::` …), or
 * when it holds `##[` anywhere (the legacy form); it splits lines at `\n`, at `\r` and at `\r\n`
 * (actions/runner, src/Runner.Common/ActionCommand.cs: TryParseV2 and TryParse). @actions/core
 * escapes the data of its own commands (warning, error, notice, debug, group), but `core.info`
 * writes its text as it is: a branch name holding `\n::stop-commands::x` would end the masking of
 * every secret printed after it.
 */
// C0 controls (\n and \r among them), DEL, C1 controls, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const log_text_CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** Every control character as a visible `\uXXXX`: the text stays on one line, and says what it held. */
function escapeControl(text) {
    return text.replace(log_text_CONTROL_RE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
/**
 * One log line that the runner cannot take for a command: control characters escaped (so nothing
 * in it starts a line of its own), a leading `::` and every `##[` broken with an escape.
 */
function logLine(text) {
    return escapeControl(text)
        .replace(/^(\s*):/, '$1\\u003a')
        .replace(/##\[/g, '##\\u005b');
}
/**
 * A multi-line message (an error that lists what failed, one per line) with each line escaped:
 * only the `\n` between lines is kept, so a `\r` or another control character inside a line
 * cannot start one, and `##[` broken as in logLine. Used where @actions/core escapes the whole
 * message again (core.setFailed).
 */
function logLines(text) {
    return text
        .split(/\r\n|\n/)
        .map((line) => escapeControl(line).replace(/##\[/g, '##\\u005b'))
        .join('\n');
}

;// CONCATENATED MODULE: ./src/modes/undo.ts


/** What is said when Neon did not list the branch as recoverable (or was not asked). */
const UNKNOWN_WINDOW = 'up to 7 days, where Neon offers recovery';
/** "until 2026-12-01T10:00:00Z", or "for up to 7 days, where Neon offers recovery". */
function recoverableText(r) {
    return r.recoverableUntil ? `until ${r.recoverableUntil}` : `for ${UNKNOWN_WINDOW}`;
}
/** One log line: which branch, until when, and how to bring it back. */
function undoLine(r) {
    return (`Branch '${escapeControl(r.name)}' (${r.id}) can be recovered ${recoverableText(r)}: run the action with ` +
        `mode: recover and branch_name: ${r.id} (a pull request's branch also comes back when the pull ` +
        `request is reopened).`);
}
/**
 * The reports for `deleted` without asking Neon (make-room, a dry run): the window is the
 * documented one.
 */
function unknownWindows(deleted) {
    return deleted.map((b) => ({ name: b.name, id: b.id }));
}
/**
 * After the deletes: one listing with include_deleted (narrowed by the longest prefix the names
 * share) says until when each branch can be recovered, and each is logged with how. A listing that
 * fails costs only the date: the branch is reported with the documented window, and a debug line
 * says why.
 */
async function reportRecoverable(deps, projectId, deleted) {
    if (deleted.length === 0)
        return [];
    let windows = new Map();
    try {
        const prefix = commonPrefix(deleted.map((b) => b.name));
        windows = await recoveryWindows(deps.neon, projectId, new Set(deleted.map((b) => b.id)), prefix === '' ? undefined : prefix);
    }
    catch (e) {
        deps.log.debug(`Could not list the deleted branches to learn until when they can be recovered: ${e instanceof Error ? e.message : String(e)}`);
    }
    const reports = deleted.map((b) => {
        const until = windows.get(b.id)?.recoverable_until;
        return { name: b.name, id: b.id, ...(until ? { recoverableUntil: until } : {}) };
    });
    for (const r of reports)
        deps.log.info(undoLine(r));
    return reports;
}
/** The `recoverable_until` output: JSON, name → RFC 3339 time, or null where Neon gave none. */
function recoverableUntilOutput(reports) {
    const out = {};
    for (const r of reports)
        out[r.name] = r.recoverableUntil ?? null;
    return JSON.stringify(out);
}
function commonPrefix(names) {
    let prefix = names[0] ?? '';
    for (const n of names) {
        let i = 0;
        while (i < prefix.length && i < n.length && prefix[i] === n[i])
            i++;
        prefix = prefix.slice(0, i);
    }
    // Not half of a surrogate pair: the search would then match nothing.
    const last = prefix.charCodeAt(prefix.length - 1);
    return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}

;// CONCATENATED MODULE: ./src/github/comment-body.ts








/** GitHub refuses comment bodies of 65,536 characters or more. */
const MAX_COMMENT_CHARS = 65_536;
const comment_body_MAX_ERROR_CHARS = 8_000;
const CONSOLE = 'https://console.neon.tech/app/projects';
/**
 * The hidden marker that finds the comment again: one per Neon project and branch, so two
 * instances of the action on one pull request (two branches) keep two comments. `<`, `>`, `@` and
 * `%` are percent-encoded so a name can neither end the HTML comment early nor mention anyone.
 */
function commentMarker(projectId, branch) {
    const safe = (s) => s.replace(/[%<>@]/g, (c) => encodeURIComponent(c));
    return `<!-- neon-preview-branch: ${safe(projectId)}/${safe(branch)} -->`;
}
/** The status a successful result shows. */
function statusOf(result) {
    switch (result.mode) {
        case 'reset':
            return 'reset';
        case 'delete':
            return 'deleted';
        default:
            return result.created ? 'created' : result.recovered ? 'recovered' : 'ready';
    }
}
const HEADLINE = {
    created: '🟢 created and ready',
    ready: '🟢 ready',
    recovered: '♻️ recovered and ready',
    reset: '🔄 reset from its parent, ready',
    deleted: '🗑️ deleted',
    failed: '🔴 failed',
};
/**
 * Hidden markers that open each section of the comment, each on a line of its own: a schema-diff
 * run replaces the schema section and keeps the branch section a create run wrote, and the other
 * way round. Rendered text never holds one (see {@link neutralize}), so only these lines are real.
 */
const SECTION = {
    branch: '<!-- neon-preview-branch:section branch -->',
    schema: '<!-- neon-preview-branch:section schema -->',
    footer: '<!-- neon-preview-branch:section footer -->',
};
/** Breaks up anything in untrusted text that could pass for one of our markers (invisibly). */
function neutralize(text) {
    return text.replace(/<!--(?=\s*neon-preview-branch)/g, '<!-\u200b-');
}
/**
 * The sections of a comment body as written by this action (each without its marker line). A
 * body from before sections existed is read as one branch section, its footer line dropped.
 */
function parseSections(body) {
    const lines = body.replace(/\r\n?/g, '\n').split('\n');
    const names = Object.keys(SECTION);
    const out = {};
    let current;
    let buf = [];
    const flush = () => {
        if (current)
            out[current] = trimEnd(buf.join('\n'));
        buf = [];
    };
    for (const line of lines.slice(1)) {
        const name = names.find((n) => SECTION[n] === line);
        if (name) {
            flush();
            current = name;
        }
        else if (current)
            buf.push(line);
        else
            buf.push(line);
    }
    if (current)
        flush();
    else if (buf.length > 0) {
        while (buf.length > 0 && (buf.at(-1) === '' || buf.at(-1)?.startsWith('<sub>Updated by ')))
            buf.pop();
        if (buf.length > 0)
            out.branch = buf.join('\n');
    }
    return out;
}
/**
 * Renders the whole comment body, marker first: the branch section, the schema section when
 * there is one, the footer; under GitHub's limit. A schema-diff run renders only the schema
 * section and keeps the branch section of `existing`; the other modes render the branch section
 * and keep the schema section only where it is still true (see keepsSchema).
 */
function renderComment(v) {
    const marker = commentMarker(v.projectId, v.target);
    const kept = v.existing !== undefined ? parseSections(v.existing) : {};
    const schemaRun = v.mode === 'schema-diff';
    const branch = trimEnd(schemaRun && kept.branch !== undefined ? kept.branch : neutralize(renderBranchSection(v)));
    const run = v.context.runUrl ? ` in [this run](${v.context.runUrl})` : '';
    const footer = `<sub>Updated by ${v.producer}${run}.</sub>`;
    const assemble = (schema) => [
        marker,
        SECTION.branch,
        branch,
        // A blank line before each marker ends any HTML block above it (`</details>`), so what
        // follows is read as Markdown again.
        ...(schema !== undefined && schema !== '' ? ['', SECTION.schema, trimEnd(schema)] : []),
        '',
        SECTION.footer,
        footer,
    ].join('\n');
    // What the schema section may use: everything below the limit the rest leaves, less its marker line.
    const budget = MAX_COMMENT_CHARS - 1 - assemble(undefined).length - SECTION.schema.length - 3;
    let schema;
    if (schemaRun) {
        const view = v.result?.schema
            ? { comparison: v.result.schema }
            : v.error !== undefined
                ? { error: v.error }
                : undefined;
        if (view)
            schema = neutralize(renderSchemaSection(view, budget));
    }
    else if (kept.schema !== undefined && keepsSchema(v.status)) {
        schema = kept.schema.length <= budget ? kept.schema : undefined;
    }
    return truncateComment(assemble(schema));
}
/** Without trailing blank lines: sections are stored so, and separated by one when assembled. */
function trimEnd(text) {
    // trimEnd, not /\s+$/: that one is quadratic on a long run of blanks, and the text holds the schema diff.
    return text.trimEnd();
}
/**
 * Whether a branch-mode run leaves the last schema diff in place: an adopted branch still holds
 * what its migrations did, and a failure changed no schema; a new branch starts from its parent's
 * schema, a reset brings it back to the parent's, and a deleted branch has none.
 */
function keepsSchema(status) {
    return status === 'ready' || status === 'recovered' || status === 'failed';
}
/** The branch section: headline, table, and how to connect (or the failure). */
function renderBranchSection(v) {
    const r = v.result;
    const branch = r?.branch;
    const name = branch?.name || v.target;
    const id = branch?.id || (isBranchId(v.target) ? v.target : '');
    // schema-diff writes a branch section only when there is no comment yet: who the branch is, and
    // nothing about its state, which that run did not look at.
    const schemaRun = v.mode === 'schema-diff';
    const lines = [
        schemaRun
            ? `### Neon preview branch ${codeSpan(name)}`
            : `### Neon preview branch ${codeSpan(name)}: ${r?.notDeleted ? '⚠️ left alone' : HEADLINE[v.status]}`,
        '',
    ];
    const rows = [];
    const link = v.status !== 'deleted' ? consoleLink(v.projectId, id) : undefined;
    rows.push([
        'Branch',
        link
            ? `${codeSpan(name)} · [${codeSpan(id)}](${link})`
            : `${codeSpan(name)}${id ? ` (${codeSpan(id)})` : ''}`,
    ]);
    rows.push(['Project', codeSpan(v.projectId)]);
    const parent = branch?.parentName ?? branch?.parentId;
    if (parent && !schemaRun)
        rows.push(['Parent', codeSpan(parent)]);
    if (branch?.pointInTime && !schemaRun)
        rows.push(['Point in time', codeSpan(branch.pointInTime)]);
    if (r?.computeUnits && v.status !== 'deleted' && !schemaRun)
        rows.push(['Compute', describeComputeUnits(r.computeUnits)]);
    if (r?.anonymization && v.status !== 'deleted' && !schemaRun)
        rows.push(['Data', describeData(r.anonymization)]);
    if (!schemaRun)
        rows.push(['State', stateText(v)]);
    if (branch?.schemaOnly && v.status !== 'deleted' && !schemaRun)
        rows.push(['Data', SCHEMA_ONLY]);
    if (v.status !== 'deleted' && !schemaRun) {
        if (r?.authUrl !== undefined)
            rows.push(['Neon Auth', r.authUrl !== null ? codeSpan(r.authUrl) : 'not enabled on this branch']);
        if (r?.dataApiUrl !== undefined)
            rows.push([
                'Data API',
                r.dataApiUrl !== null ? codeSpan(r.dataApiUrl) : "not enabled for the branch's database",
            ]);
    }
    if (branch && v.status !== 'deleted' && v.status !== 'failed') {
        rows.push(['Expires', expiryText(branch.expiresAt, v.now)]);
    }
    const usage = schemaRun ? undefined : usageRow(r?.usage, v.status === 'deleted');
    if (usage)
        rows.push(usage);
    rows.push(...runRows(v, id, schemaRun));
    lines.push('| | |', '| --- | --- |', ...rows.map(([k, val]) => `| ${k} | ${tableCell(val)} |`), '');
    if (!schemaRun)
        lines.push(...connectOrFailure(v, name));
    return lines.join('\n');
}
/** The rows about this run: the commit, room made, how to undo a delete, times. */
function runRows(v, id, schemaRun) {
    const r = v.result;
    const rows = [];
    const sha = v.context.pullRequest?.headSha || v.context.sha;
    if (sha && /^[0-9a-f]{7,64}$/i.test(sha)) {
        const short = sha.slice(0, 7);
        rows.push([
            v.status === 'failed' ? 'Commit' : 'Updated for',
            v.context.repository
                ? `[${codeSpan(short)}](${v.context.serverUrl}/${v.context.repository}/commit/${sha})`
                : codeSpan(short),
        ]);
    }
    const room = r?.branchLimit;
    if (room && room.madeRoom.length > 0) {
        rows.push([
            'Made room',
            `the project was at its branch limit (${room.count} of ${room.limit ?? '?'}); deleted ` +
                room.madeRoom
                    .map((v) => `${codeSpan(v.branch)}${v.pr !== undefined ? ` (PR #${v.pr}${v.prState ? ` ${v.prState}` : ''})` : ''}`)
                    .join(', '),
        ]);
    }
    const undo = v.status === 'deleted' ? r?.recoverable?.find((x) => x.id === id) : undefined;
    if (undo) {
        rows.push([
            'Recoverable',
            `${undo.recoverableUntil ? `until ${codeSpan(undo.recoverableUntil)}` : `for ${UNKNOWN_WINDOW}`}: ` +
                `reopen this pull request to get it back, data and URL as they were`,
        ]);
    }
    if (r?.timings.readyMs !== undefined)
        rows.push(['Time to ready', seconds(r.timings.readyMs)]);
    if (r && !schemaRun)
        rows.push(['Run took', seconds(r.timings.totalMs)]);
    return rows;
}
/**
 * After the table: the failure, or how to connect (nothing for a deleted branch). Not for
 * schema-diff, whose failure, if any, is shown in the schema section.
 */
function connectOrFailure(v, name) {
    const lines = [];
    if (v.status === 'failed') {
        lines.push(`**The ${v.mode} step failed:**`, '', codeBlock(shorten(v.error ?? 'unknown error')), '');
        if (v.context.runUrl)
            lines.push(`See [the run log](${v.context.runUrl}) for details.`, '');
    }
    else if (v.status !== 'deleted') {
        lines.push('Connect from your machine with [`neonctl`](https://neon.tech/docs/reference/neon-cli):', '', codeBlock(`neonctl connection-string ${shellQuote(name)} --project-id ${shellQuote(v.projectId)}`, 'sh'), '');
    }
    return lines;
}
/**
 * The branch's page in the Neon console, only for a project id and a branch id of the forms Neon
 * gives them (a name, or an id from elsewhere, is shown as code, never linked), and with every
 * character a Markdown link destination could end at percent-encoded anyway.
 */
function consoleLink(projectId, branchId) {
    if (!isProjectId(projectId) || !isBranchId(branchId))
        return undefined;
    return `${CONSOLE}/${pathSegment(projectId)}/branches/${pathSegment(branchId)}`;
}
/** encodeURIComponent, and the characters it leaves alone that Markdown reads: `( ) ! ' *`. */
function pathSegment(text) {
    return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
function stateText(v) {
    const r = v.result;
    switch (v.status) {
        case 'created':
            return 'ready: created by this run';
        case 'ready':
            return 'ready: existing branch adopted, expiry refreshed';
        case 'recovered':
            return r?.recovery
                ? `ready: recovered the branch deleted at ${codeSpan(r.recovery.deletedAt)}; its data and URL are as they were`
                : 'ready: recovered; its data and URL are as they were';
        case 'reset':
            if (r?.recreated) {
                return `ready: re-created from the parent with freshly masked data (Neon cannot reset an anonymized branch); new branch id (it was ${codeSpan(r.recreated.previousId)}), host and password`;
            }
            return r?.branch?.pointInTime
                ? 'ready: data restored to the point in time above; same host and password'
                : 'ready: data reset from the parent; same host and password';
        case 'deleted':
            return r?.notDeleted
                ? // Neon's text (another repository's annotation, which anyone writing to the project sets),
                    // in a code span: no link, image, heading or mention, bare URLs included.
                    `not deleted: ${codeSpan(r.notDeleted)}`
                : r?.deleted === false
                    ? 'deleted (it was already gone: nothing to do)'
                    : 'deleted because the pull request closed';
        case 'failed':
            return 'failed; see below';
    }
}
function expiryText(expiresAt, now) {
    if (!expiresAt)
        return 'never';
    const ms = Date.parse(expiresAt) - now;
    if (!Number.isFinite(ms))
        return codeSpan(expiresAt);
    const days = ms / 86_400_000;
    const rel = ms <= 0
        ? 'expired'
        : days >= 1
            ? `in ${Math.round(days)} day${Math.round(days) === 1 ? '' : 's'}`
            : `in ${Math.max(1, Math.round(ms / 3_600_000))} h`;
    return `${codeSpan(expiresAt)} (${rel})`;
}
function seconds(ms) {
    return `${(ms / 1000).toFixed(1)} s`;
}
function shorten(text) {
    if (text.length <= comment_body_MAX_ERROR_CHARS)
        return text;
    return `${cutAt(text, comment_body_MAX_ERROR_CHARS)}\n… (${text.length - comment_body_MAX_ERROR_CHARS} more characters in the run log)`;
}
/** Cuts without splitting a surrogate pair. */
function cutAt(text, n) {
    const code = text.charCodeAt(n - 1);
    return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}
/**
 * Keeps a body below GitHub's limit. The marker stays first, so the comment is still found; the
 * cut is marked. Bodies rendered here never come close, but an error message could.
 */
function truncateComment(body, max = MAX_COMMENT_CHARS - 1) {
    if (body.length <= max)
        return body;
    const note = '\n\n… (truncated: the full text is in the run log)';
    return cutAt(body, max - note.length) + note;
}

;// CONCATENATED MODULE: ./src/github/rate-limit.ts
// Kept out of octokit.ts, which main.ts loads only when GitHub is first asked (start-up time).
/**
 * Whether GitHub refused a request for a rate limit rather than for what the token may do: a 429,
 * or a 403 whose message says "secondary rate" (the test Octokit's throttling plugin makes,
 * plugin-throttling 11.0.5) or whose `x-ratelimit-remaining` is 0 (a primary limit, "Rate limits for
 * the REST API").
 */
function isRateLimited(e) {
    const r = e;
    if (r.status === 429)
        return true;
    if (r.status !== 403)
        return false;
    return (/\bsecondary rate\b/i.test(String(r.message)) ||
        String(r.response?.headers?.['x-ratelimit-remaining']) === '0');
}

;// CONCATENATED MODULE: ./src/github/comment.ts
/**
 * The sticky pull request comment: one per pull request and branch, found again by its hidden
 * marker and its author (the action itself), and updated in place. Writing it is best effort: any
 * failure is a warning, never a failed step (a fork's read-only token answers 403, and the branch
 * is what the job needs).
 */



const PER_PAGE = 100;
/**
 * Creates the marked comment, or updates the marked one in place. Only a comment this action wrote
 * is ever edited or deleted: one that opens with the marker **and** whose author is the identity
 * the token writes as (the marker is predictable, so anyone who can comment can post it). That
 * identity is GitHub's GraphQL `viewer` for the token (`github-actions[bot]` for the GITHUB_TOKEN,
 * `<app>[bot]` for an app's token, the user for a personal token), asked beside the first listing;
 * when that cannot be had, the author GitHub gives the comment this run creates is the answer.
 *
 * When earlier concurrent runs left several of ours, the oldest is kept (its link may already be
 * shared) and updated; the rest are deleted. After creating one, the comments are listed again: a
 * run that raced this one may have created its own at the same moment, and the two runs converge
 * on the oldest.
 *
 * Never throws: a failure is logged as a warning and returned as `failed`.
 */
async function upsertStickyComment(c) {
    const [owner = '', repo = ''] = c.repository.split('/');
    const where = `${c.repository}#${c.issueNumber}`;
    const bodyFor = (existing) => {
        const text = typeof c.body === 'string' ? c.body : c.body(existing);
        return truncateComment(text.startsWith(c.marker) ? text : `${c.marker}\n${text}`);
    };
    // Beside the listing, so it costs no round trip of its own; awaited on every path below.
    const viewer = whoAmI(c);
    let step = 'list the comments of';
    try {
        const marked = await listMarked(c, owner, repo);
        const me = marked.length > 0 ? await viewer : undefined;
        const ours = me ? marked.filter((x) => wroteIt(x, me)) : [];
        const others = marked.length - ours.length;
        if (me && others > 0) {
            c.log.info(`Left alone ${others} comment(s) that carry this action's marker but were written by someone else ` +
                `than ${me.login}: only the action's own comment is ever edited or deleted`);
        }
        if (ours.length > 0) {
            step = 'update the comment on';
            const kept = await collapse(c, owner, repo, ours, bodyFor(ours[0]?.body ?? undefined));
            c.log.info(kept.changed
                ? `Updated the pull request comment ${kept.url ?? kept.id}`
                : `The pull request comment is already up to date`);
            return {
                status: kept.changed ? 'updated' : 'unchanged',
                id: kept.id,
                removedDuplicates: ours.length - 1,
            };
        }
        // None of ours (or, without the viewer, none known to be): a new one, whose author is us.
        step = 'create a comment on';
        const body = bodyFor(undefined);
        const { data } = await c.octokit.rest.issues.createComment({
            owner,
            repo,
            issue_number: c.issueNumber,
            body,
        });
        c.log.info(`Created the pull request comment ${data.html_url}`);
        let outcome = { status: 'created', id: data.id, url: data.html_url, removedDuplicates: 0 };
        const author = data.user?.login ? { login: data.user.login } : (me ?? (await viewer));
        if (!author)
            return outcome;
        step = "check for a concurrent run's comment on";
        const again = (await listMarked(c, owner, repo)).filter((x) => wroteIt(x, author));
        if (again.length > 1) {
            // A racing run's, or (without the viewer) an earlier run's: the oldest stays, with this body.
            step = 'collapse duplicate comments on';
            const kept = await collapse(c, owner, repo, again, bodyFor(again[0]?.body ?? undefined));
            outcome = { ...outcome, id: kept.id, removedDuplicates: again.length - 1 };
        }
        return outcome;
    }
    catch (e) {
        const error = `Could not ${step} pull request ${where}: ${comment_describe(e)}`;
        c.log.warning(`${error}. The branch is fine; only the comment is missing or stale.${hint(e)}`);
        return { status: 'failed', error };
    }
    finally {
        await viewer;
    }
}
/**
 * The login the token writes as (GraphQL `query { viewer { login } }`: it answers for a personal
 * token, an app's installation token and the GITHUB_TOKEN alike, where REST `GET /user` refuses the
 * last two), or undefined when it cannot be had (then the caller learns it from a comment it
 * creates). Never rejects.
 */
async function whoAmI(c) {
    try {
        const r = await c.octokit.graphql('query { viewer { login } }');
        const login = r.viewer?.login;
        return typeof login === 'string' && login !== '' ? { login } : undefined;
    }
    catch (e) {
        c.log.debug(`Could not ask GitHub who the token is (GraphQL viewer): ${comment_describe(e)}`);
        return undefined;
    }
}
/**
 * Whether `me` wrote the comment. Logins are unique whatever their case; a login ending in `[bot]`
 * is an app's (GitHub's comment object says `type: "Bot"`), any other a user's, so a user can
 * never pass for the action's bot.
 */
function wroteIt(x, me) {
    const login = x.user?.login;
    if (!login || login.toLowerCase() !== me.login.toLowerCase())
        return false;
    return x.user?.type === (me.login.endsWith('[bot]') ? 'Bot' : 'User');
}
async function listMarked(c, owner, repo) {
    const all = (await c.octokit.paginate(c.octokit.rest.issues.listComments, {
        owner,
        repo,
        issue_number: c.issueNumber,
        per_page: PER_PAGE,
    }));
    // The marker must open the body: a reply quoting the comment contains it too, after "> ".
    return all
        .filter((x) => (x.body ?? '').startsWith(c.marker))
        .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id);
}
/** Keeps the oldest of our marked comments with `body` in it and deletes the others (ours too). */
async function collapse(c, owner, repo, marked, body) {
    const [keep, ...rest] = marked;
    const changed = keep.body !== body;
    if (changed) {
        await c.octokit.rest.issues.updateComment({ owner, repo, comment_id: keep.id, body });
    }
    for (const dup of rest) {
        try {
            await c.octokit.rest.issues.deleteComment({ owner, repo, comment_id: dup.id });
            c.log.info(`Deleted duplicate pull request comment ${dup.id} (kept the oldest, ${keep.id})`);
        }
        catch (e) {
            // Gone already (the racing run deleted it) is what we wanted.
            if (comment_statusOf(e) === 404)
                continue;
            c.log.warning(`Could not delete duplicate pull request comment ${dup.id}: ${comment_describe(e)}`);
        }
    }
    return { id: keep.id, url: keep.html_url, changed };
}
function comment_statusOf(e) {
    const s = e.status;
    return typeof s === 'number' ? s : undefined;
}
/** GitHub's answer as one line: its message is GitHub's text (util/log-text.ts). */
function comment_describe(e) {
    const status = comment_statusOf(e);
    const message = escapeControl(e instanceof Error ? e.message : String(e));
    return status ? `HTTP ${status}: ${message}` : message;
}
function hint(e) {
    const status = comment_statusOf(e);
    // A rate limit that outlasted the retries is not a permission problem: no hint that would mislead.
    if ((status === 403 && !isRateLimited(e)) || status === 404) {
        return (` The token needs 'pull-requests: write' (add it under 'permissions:'); pull requests from forks ` +
            `get a read-only token, so set 'comment: false' there or accept this warning.`);
    }
    return '';
}

// EXTERNAL MODULE: ./src/github/deadline.ts
var deadline = __nccwpck_require__(523);
;// CONCATENATED MODULE: ./src/github/pulls.ts

/**
 * A 404 that cannot be believed: GitHub answers 404 for what the token may not see as for what does
 * not exist, and this token was not shown to read this repository's pull requests (or workflow
 * runs) in this run. Whatever depends on that answer is kept. `permission` is what the workflow's
 * `permissions:` (or a fine-grained token) must grant.
 */
class UnverifiedNotFound extends Error {
    what;
    permission;
    constructor(what, permission, why) {
        const kind = permission === 'actions: read' ? 'workflow runs' : 'pull requests';
        super(`GitHub answered 404 for ${what}, but this token was not shown to read this repository's ${kind} ` +
            `(${why}), so the 404 may only mean that it may not see it; it needs '${permission}'`);
        this.what = what;
        this.permission = permission;
        this.name = 'UnverifiedNotFound';
    }
}
/**
 * Whether the token reads a kind of thing in this repository, shown once per run: any 200 for one of
 * them shows it (`saw`); else, at the first 404, one listing (`probe`) must answer 200. Returns why
 * not, or undefined when a 404 can be believed. The probe is made at most once (its promise is kept).
 */
function readProof(route, probe) {
    let seen = false;
    let proof;
    return {
        saw() {
            seen = true;
        },
        async unproven() {
            if (seen)
                return undefined;
            proof ??= probe().then(() => undefined, (e) => {
                const status = e.status;
                return `${route} answered ${status ? `HTTP ${status}` : escapeControl(e.message)}`;
            });
            return proof;
        },
    };
}
/**
 * Looks pull requests up through the REST API, each number once per run (cached), with a bounded
 * number in flight so a sweep of hundreds of branches neither crawls nor trips GitHub's secondary
 * rate limits. A 404 means the pull request does not exist (deleted, or a number from elsewhere)
 * only once the token was shown to read this repository's pull requests (readProof); otherwise it
 * is an UnverifiedNotFound, and the caller keeps what depends on it.
 */
function restPullLookup(api, repository, concurrency = 8) {
    const [owner = '', repo = ''] = repository.split('/');
    const cache = new Map();
    let requests = 0;
    const route = `GET /repos/${repository}/pulls?state=all&per_page=1`;
    const proof = readProof(route, () => {
        requests++;
        return api.rest.pulls.list({ owner, repo, state: 'all', per_page: 1 });
    });
    const one = async (n) => {
        requests++;
        try {
            const { data } = await api.rest.pulls.get({ owner, repo, pull_number: n });
            proof.saw();
            if (data.state === 'open')
                return 'open';
            return data.merged || data.merged_at ? 'merged' : 'closed';
        }
        catch (e) {
            if (e.status === 404) {
                const why = await proof.unproven();
                return why ? new UnverifiedNotFound(`pull request #${n}`, 'pull-requests: read', why) : 'missing';
            }
            const status = e.status;
            return new Error(`GET /repos/${repository}/pulls/${n}: ${status ? `HTTP ${status}: ` : ''}${escapeControl(e.message)}`);
        }
    };
    return {
        get requests() {
            return requests;
        },
        async states(numbers, onAnswer) {
            return lookUpAll(numbers, cache, one, concurrency, onAnswer);
        },
    };
}
/**
 * The shared engine of the pull request and workflow run look-ups: each distinct key once per run
 * (the cache holds the promise, so a key asked twice, even concurrently, costs one request), at
 * most `concurrency` requests in flight, `onAnswer` told of each key's answer as it lands.
 */
async function lookUpAll(keys, cache, one, concurrency, onAnswer) {
    const distinct = [...new Set(keys)];
    // Keys another call already asked for: their answers are told when those land.
    const told = distinct.filter((k) => cache.has(k)).map(async (k) => onAnswer?.(k, await cache.get(k)));
    const todo = distinct.filter((k) => !cache.has(k));
    let next = 0;
    const worker = async () => {
        while (next < todo.length) {
            const k = todo[next++];
            const p = one(k);
            cache.set(k, p);
            onAnswer?.(k, await p);
        }
    };
    await Promise.all([...told, ...Array.from({ length: Math.min(concurrency, todo.length) }, worker)]);
    const out = new Map();
    for (const k of keys)
        out.set(k, await cache.get(k));
    return out;
}

;// CONCATENATED MODULE: ./src/github/runs.ts
/**
 * Whether a workflow run is still going, for the cleanup of ephemeral branches: a branch whose run
 * has completed lost its post step (the runner machine died), and one whose run is in progress may
 * be in use right now.
 */


/**
 * Looks runs up through the REST API, cached and a few at a time, like the pull request look-up; a
 * 404 is believed only once the token was shown to read this repository's runs (readProof).
 */
function restRunLookup(api, repository, concurrency = 8) {
    const [owner = '', repo = ''] = repository.split('/');
    const cache = new Map();
    let requests = 0;
    const route = `GET /repos/${repository}/actions/runs?per_page=1`;
    const proof = readProof(route, () => {
        requests++;
        return api.rest.actions.listWorkflowRunsForRepo({ owner, repo, per_page: 1 });
    });
    const one = async (id) => {
        requests++;
        try {
            const { data } = await api.rest.actions.getWorkflowRun({ owner, repo, run_id: Number(id) });
            proof.saw();
            return data.status === 'completed' ? 'completed' : 'in progress';
        }
        catch (e) {
            const status = e.status;
            if (status === 404) {
                const why = await proof.unproven();
                return why ? new UnverifiedNotFound(`workflow run ${id}`, 'actions: read', why) : 'missing';
            }
            return new Error(`GET /repos/${repository}/actions/runs/${id}: ${status ? `HTTP ${status}: ` : ''}${escapeControl(e.message)}`);
        }
    };
    return {
        get requests() {
            return requests;
        },
        states(runIds, onAnswer) {
            return lookUpAll(runIds, cache, one, concurrency, onAnswer);
        },
    };
}

;// CONCATENATED MODULE: ./src/neon/errors.ts

/** HTTP reason phrases for the statuses Neon answers, for readable error messages. */
const REASONS = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    422: 'Unprocessable Entity',
    423: 'Locked',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
    524: 'A Timeout Occurred',
};
/**
 * A failed Neon API call. The message carries everything a user needs to act or to quote to Neon
 * support: method, path, status, Neon's code and message, the request id, and how many tries.
 */
class NeonApiError extends Error {
    method;
    path;
    status;
    code;
    neonMessage;
    requestId;
    attempts;
    detail;
    constructor(d) {
        super(formatApiError(d));
        this.name = 'NeonApiError';
        this.method = d.method;
        this.path = d.path;
        this.status = d.status;
        this.code = d.code;
        this.neonMessage = d.neonMessage;
        this.requestId = d.requestId;
        this.attempts = d.attempts;
        if (d.detail !== undefined)
            this.detail = d.detail;
    }
    /** The same failure, with why it was not tried again. */
    withDetail(detail) {
        return new NeonApiError({
            method: this.method,
            path: this.path,
            status: this.status,
            ...(this.code !== undefined ? { code: this.code } : {}),
            neonMessage: this.neonMessage,
            ...(this.requestId !== undefined ? { requestId: this.requestId } : {}),
            attempts: this.attempts,
            detail,
        });
    }
}
// Neon's code, message and request id are Neon's text: control characters escaped, so that the
// message stays one line wherever it goes (the log above all; util/log-text.ts).
function formatApiError(d) {
    const status = d.status === 0 ? 'no response' : `HTTP ${d.status} ${REASONS[d.status] ?? ''}`.trim();
    const code = d.code ? ` [${escapeControl(d.code)}]` : '';
    const id = d.requestId ? ` (request id ${escapeControl(d.requestId)})` : ' (no request id)';
    const tries = d.attempts > 1 ? ` after ${d.attempts} attempts` : '';
    return `${d.method} ${d.path}: ${status}${code}: ${escapeControl(d.neonMessage)}${id}${tries}${d.detail ? `. ${escapeControl(d.detail)}` : ''}`;
}
/** An operation that Neon reports as failed, errored or cancelled. */
class OperationFailedError extends Error {
    operationId;
    action;
    status;
    detail;
    constructor(operationId, action, status, detail) {
        super(escapeControl(`Neon operation ${action} (${operationId}) ended '${status}'${detail ? `: ${detail}` : ''}`));
        this.operationId = operationId;
        this.action = action;
        this.status = status;
        this.detail = detail;
        this.name = 'OperationFailedError';
    }
}
/** Waiting for Neon ran past the `timeout` input. */
class WaitTimeoutError extends Error {
    constructor(what, waitedMs, lastState) {
        super(`Timed out after ${Math.round(waitedMs / 1000)} s waiting for ${what} (last seen: ${lastState}). ` +
            `Raise the 'timeout' input if Neon is slow today; nothing was rolled back.`);
        this.name = 'WaitTimeoutError';
    }
}
/** Prefixes an error's message with what we were doing, keeping its type and fields. */
function withContext(context, err) {
    if (err instanceof Error) {
        err.message = `${context}: ${err.message}`;
    }
    return err;
}
function isNotFound(err) {
    return err instanceof NeonApiError && err.status === 404;
}
/**
 * Neon refused to create a branch because the project is at its branch limit: a 422 with code
 * `BRANCHES_LIMIT_EXCEEDED`, or a 422 whose message speaks of the branches limit (the code is not
 * documented; BEHAVIOUR.md, "Limits of a project", expects it by analogy with PROJECTS_LIMIT_EXCEEDED).
 */
function isBranchLimit(err) {
    if (!(err instanceof NeonApiError) || err.status !== 422)
        return false;
    return err.code === 'BRANCHES_LIMIT_EXCEEDED' || BRANCH_LIMIT_RE.test(err.neonMessage);
}
// "branches limit of 10 exceeded", "branch limit reached", "limit of 10 branches", "maximum number of
// branches"; not "branch logical size limit", which is another limit (storage).
const BRANCH_LIMIT_RE = /\bbranch(es)?[\s_-]+limit\b|\blimit\s+(of\s+\d+\s+|on\s+(the\s+number\s+of\s+)?)branches\b|\b(maximum|max)\s+number\s+of\s+branches\b/i;
function isConflict(err) {
    return err instanceof NeonApiError && err.status === 409;
}

;// CONCATENATED MODULE: ./src/neon/lookup.ts



/**
 * Finds a branch by id (`br-…`) or exact name. Neon's `search` is a partial match on name or id,
 * so the list is paged through and filtered for an exact match: `preview/pr-1` must never pick up
 * `preview/pr-12`. A `br-…` string that is no branch id is tried as a name as well.
 */
async function findBranch(client, projectId, ref) {
    if (isBranchId(ref)) {
        try {
            return await client.getBranchAnnotated(projectId, ref);
        }
        catch (e) {
            if (!isNotFound(e))
                throw e;
        }
    }
    const { branches, annotations } = await client.listBranches(projectId, ref);
    const branch = branches.find((b) => b.name === ref && !isDeleted(b));
    return branch ? { branch, annotation: annotations[branch.id] } : undefined;
}
/**
 * findBranch's look-up with `include_deleted=true`: the same request (and pages) answers both "is
 * there a live branch of this name?" and "which deleted ones could be recovered?". Where Neon does
 * not offer recovery, `deleted` is empty. A live branch found by id needs no listing.
 */
async function findBranchWithDeleted(client, projectId, ref) {
    if (isBranchId(ref)) {
        try {
            // With its annotation: whose the branch is lives there (modes/ownership.ts).
            return { live: await client.getBranchAnnotated(projectId, ref), deleted: [] };
        }
        catch (e) {
            if (!isNotFound(e))
                throw e;
        }
    }
    let listed;
    try {
        listed = await client.listBranches(projectId, ref, undefined, { includeDeleted: true });
    }
    catch (e) {
        // Where recovery is not offered Neon is expected to list no deleted branch (BEHAVIOUR.md,
        // "Deleted branches can be recovered"); should it refuse the parameter instead (400, 403 or
        // 422), the look-up asks again without it rather than fail every create.
        if (!(e instanceof NeonApiError) || ![400, 403, 422].includes(e.status))
            throw e;
        const live = await findBranch(client, projectId, ref);
        return { ...(live ? { live } : {}), deleted: [], deletedRefused: e.message };
    }
    const { branches, annotations } = listed;
    const live = branches.find((b) => b.name === ref && !isDeleted(b));
    const deleted = branches
        .filter((b) => recoveryOf(b) !== undefined && (b.name === ref || b.id === ref))
        .map((branch) => ({ branch, annotation: annotations[branch.id] }))
        .sort(byDeletion);
    return { ...(live ? { live: { branch: live, annotation: annotations[live.id] } } : {}), deleted };
}
/**
 * Every branch of a project, loaded with one paged listing, for the modes that need to see the
 * whole tree (children, parents) and must not list the same branches twice.
 */
class BranchIndex {
    branches;
    annotations;
    byId = new Map();
    constructor(branches, annotations) {
        this.branches = branches;
        this.annotations = annotations;
        for (const b of branches)
            this.byId.set(b.id, b);
    }
    /** The live branches only: include_deleted is never sent, and a deleted entry is dropped anyway. */
    static async load(client, projectId) {
        const { branches, annotations } = await client.listBranches(projectId);
        return new BranchIndex(branches.filter((b) => !isDeleted(b)), annotations);
    }
    /** By id (`br-…`) or exact name; an id wins when a name happens to equal another branch's id. */
    find(ref) {
        const branch = this.byId.get(ref) ?? this.branches.find((b) => b.name === ref);
        return branch ? { branch, annotation: this.annotations[branch.id] } : undefined;
    }
    get(id) {
        return this.byId.get(id);
    }
    children(id) {
        return this.branches.filter((b) => b.parent_id === id);
    }
}

;// CONCATENATED MODULE: ./src/neon/usage.ts
/** The keys of the `usage` and `freed` outputs, in the order they are shown. */
const USAGE_KEYS = [
    'logical_size_bytes',
    'written_data_bytes',
    'data_transfer_bytes',
    'compute_time_seconds',
    'active_time_seconds',
];
/** Which field of Neon's Branch each key comes from. */
const FIELD = {
    logical_size_bytes: 'logical_size',
    written_data_bytes: 'written_data_bytes',
    data_transfer_bytes: 'data_transfer_bytes',
    compute_time_seconds: 'compute_time_seconds',
    active_time_seconds: 'active_time_seconds',
};
/** The branch's figures; `{}` when it carries none. */
function usageOf(branch) {
    const out = {};
    for (const key of USAGE_KEYS) {
        const value = branch[FIELD[key]];
        if (typeof value === 'number' && Number.isFinite(value) && value >= 0)
            out[key] = value;
    }
    return out;
}
/** Whether there is at least one figure to show. */
function hasUsage(u) {
    return u !== undefined && USAGE_KEYS.some((k) => u[k] !== undefined);
}
/** How many of the largest deleted branches the summary lists. */
const LARGEST_SHOWN = 5;
/**
 * Sums over `branches`: a figure is summed over the branches that report it, and absent when none
 * does (so a sweep of branches without `logical_size` does not claim to have freed 0 bytes).
 */
function sumUsage(branches) {
    const total = { branches: branches.length };
    for (const b of branches) {
        const u = usageOf(b);
        for (const key of USAGE_KEYS) {
            const v = u[key];
            if (v !== undefined)
                total[key] = (total[key] ?? 0) + v;
        }
    }
    return total;
}
/** The totals and the `n` largest by logical size (those without one are not ranked). */
function freedReport(branches, n = LARGEST_SHOWN) {
    const ranked = branches
        .map((b) => ({ name: b.name, id: b.id, usage: usageOf(b) }))
        .filter((x) => x.usage.logical_size_bytes !== undefined)
        .sort((a, b) => (b.usage.logical_size_bytes ?? 0) - (a.usage.logical_size_bytes ?? 0) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { total: sumUsage(branches), largest: ranked.slice(0, n) };
}
/** `{ usage }` for a result, when the branch carries at least one figure; `{}` otherwise. */
function usageField(branch) {
    const usage = usageOf(branch);
    return hasUsage(usage) ? { usage } : {};
}

;// CONCATENATED MODULE: ./src/modes/cleanup/deleter.ts
/**
 * Deletes branches children first, as they are handed in, at most `concurrency` at once, each
 * waited for (its operations) before its parent's turn. A branch waits while any child of it that
 * was handed in has not finished; so a caller that hands a parent in only after all its children
 * (Finality does) gets children-first deletes while it is still deciding about other branches.
 *
 * A failure is reported through `done` and does not stop the sweep; a branch whose child failed to
 * go is not attempted (Neon would refuse it), and neither, in turn, is its parent.
 */
class ChildrenFirstDeleter {
    run;
    concurrency;
    done;
    seen = new Set();
    /** Handed in, not started, with the number of their children handed in and not finished. */
    waiting = new Map();
    ready = [];
    unfinishedChildren = new Map();
    blocked = new Set();
    active = 0;
    unfinished = 0;
    closed = false;
    stopped = false;
    resolve;
    /** Settles once closed (or stopped) and nothing is left to do or in flight. */
    finished = new Promise((r) => (this.resolve = r));
    constructor(run, concurrency, done) {
        this.run = run;
        this.concurrency = concurrency;
        this.done = done;
    }
    /** Hands branches in; they start once none of their handed-in children is left unfinished. */
    add(...branches) {
        for (const b of branches) {
            if (this.closed || this.stopped || this.seen.has(b.id))
                continue;
            this.seen.add(b.id);
            this.unfinished++;
            const children = this.unfinishedChildren.get(b.id) ?? 0;
            this.waiting.set(b.id, { branch: b, children });
            if (children === 0)
                this.ready.push(b);
            if (b.parent_id) {
                this.unfinishedChildren.set(b.parent_id, (this.unfinishedChildren.get(b.parent_id) ?? 0) + 1);
                // A parent handed in before this child (a caller's list in any order) waits for it.
                const parent = this.waiting.get(b.parent_id);
                if (parent && parent.children++ === 0)
                    this.ready.splice(this.ready.indexOf(parent.branch), 1);
            }
        }
        // Started on a later turn, so that a list handed in one call is seen whole before the first delete.
        queueMicrotask(() => this.pump());
    }
    /** Nothing more will be handed in; `finished` settles when the last delete has. */
    close() {
        this.closed = true;
        this.pump();
    }
    /** Starts nothing more (what was handed in and not started is dropped); in-flight deletes finish. */
    stop() {
        this.stopped = true;
        this.unfinished -= this.waiting.size;
        this.waiting.clear();
        this.ready.length = 0;
        this.pump();
    }
    pump() {
        while (!this.stopped && this.active < this.concurrency && this.ready.length > 0) {
            const b = this.ready.shift();
            this.waiting.delete(b.id);
            if (this.blocked.has(b.id)) {
                this.finish(b, 'not attempted: one of its children could not be deleted');
                continue;
            }
            this.active++;
            void deleteOne(this.run, b).then((outcome) => {
                this.active--;
                this.finish(b, outcome);
            });
        }
        if (this.closed && this.active === 0 && this.ready.length === 0 && this.waiting.size > 0) {
            // Only a cycle in parent ids could leave a branch waiting with nothing under way; say so
            // rather than hang.
            for (const { branch } of [...this.waiting.values()]) {
                this.waiting.delete(branch.id);
                this.finish(branch, 'not attempted: its children never finished (a cycle in parent ids?)');
            }
        }
        if ((this.closed || this.stopped) && this.unfinished === 0 && this.active === 0)
            this.resolve();
    }
    finish(b, outcome) {
        this.unfinished--;
        try {
            this.done(b, outcome);
        }
        finally {
            if (outcome !== undefined && outcome !== 'gone' && b.parent_id)
                this.blocked.add(b.parent_id);
            if (b.parent_id) {
                this.unfinishedChildren.set(b.parent_id, (this.unfinishedChildren.get(b.parent_id) ?? 1) - 1);
                const parent = this.waiting.get(b.parent_id);
                if (parent && --parent.children === 0)
                    this.ready.push(parent.branch);
            }
            this.pump();
        }
    }
}
/** Deletes one branch and waits for its operations, within the step's deadline (shared by every delete). */
async function deleteOne(run, b) {
    try {
        const res = await run.deps.neon.deleteBranch(run.project, b.id);
        if (res === null)
            return 'gone';
        await run.waitOps(res.operations);
        return undefined;
    }
    catch (e) {
        return e instanceof Error ? e.message : String(e);
    }
}

;// CONCATENATED MODULE: ./src/modes/ownership.ts

/** Whose the branch with these annotations is, seen from this run's repository. */
function ownership(annotation, here) {
    const a = annotation?.value ?? {};
    const id = a['github-repo-id'];
    const named = ['github-repo', 'github-commit-repo']
        .map((key) => ({ key, repo: a[key] }))
        .filter((x) => !!x.repo);
    if (id && here.repositoryId) {
        if (id === here.repositoryId)
            return { kind: 'ours' };
        return { kind: 'foreign', repo: named[0]?.repo ?? `the repository with id ${id}`, key: 'github-repo-id' };
    }
    // Without the run's repository (a local run) nothing can be told apart.
    if (named.length === 0 || !here.repository)
        return { kind: 'unknown' };
    const other = named.find((x) => x.repo.toLowerCase() !== here.repository.toLowerCase());
    return other ? { kind: 'foreign', repo: other.repo, key: other.key } : { kind: 'ours' };
}
/**
 * The refusal for create and reset (and schema-diff): which repository the branch is for, and the
 * way out, a `branch_name` of this repository's own.
 */
function foreignBranchError(branch, o, ctx, projectId) {
    const here = ctx.repository;
    const own = (here.split('/')[1] ?? here).toLowerCase().replace(/[^a-z0-9._-]/g, '-');
    const suggestion = ctx.pullRequest
        ? `branch_name: preview/${own}/pr-\${{ github.event.pull_request.number }}-\${{ github.head_ref }} ` +
            `(in this repository's delete step too)`
        : `branch_name: preview/${own}/<name>`;
    return new Error(`branch '${escapeControl(branch.name)}' (${escapeControl(branch.id)}) in project ${projectId} is ` +
        `annotated for repository ${escapeControl(o.repo)} (${o.key}), not ${here}: it is that ` +
        `repository's branch, and this action never adopts, resets or deletes another repository's ` +
        `branch, nor hands out its URL. The two repositories share the Neon project and name their ` +
        `branches alike; give this one names of its own, e.g. ${suggestion}. Nothing was changed.`);
}

;// CONCATENATED MODULE: ./src/modes/cleanup/ephemeral.ts


const DAY_MS = 86_400_000;
/** True for a branch made with `ephemeral: true` (by any repository). */
function isEphemeral(annotation) {
    return annotation?.value['github-ephemeral'] === 'true';
}
/** This repository's ephemeral branches as cleanup candidates, each judged by its run's state. */
async function judgeEphemeral(run, index, now) {
    const candidates = ephemeralCandidates(run, index, now);
    await judgeByRun(run, candidates);
    return candidates;
}
/** This repository's ephemeral branches, not yet judged (`remove` false until judgeByRun). */
function ephemeralCandidates(run, index, now) {
    const candidates = [];
    for (const b of index.branches) {
        const a = index.annotations[b.id]?.value;
        if (!a || !isEphemeral(index.annotations[b.id]) || b.default || b.protected)
            continue;
        // Only this repository's (annotated so: ownership.ts), never one whose repository is unknown.
        if (ownership(index.annotations[b.id], run.deps.context).kind !== 'ours')
            continue;
        const runId = a['github-run-id'];
        const job = [
            runId ? `run ${runId}` : 'no run id',
            a['github-run-attempt'] ? `attempt ${a['github-run-attempt']}` : undefined,
            a['github-job'] ? `job ${a['github-job']}` : undefined,
        ]
            .filter(Boolean)
            .join(', ');
        candidates.push({
            branch: b,
            ageDays: (now - Date.parse(b.updated_at)) / DAY_MS,
            remove: false,
            reason: `ephemeral CI branch (${job})`,
            ...(runId && /^\d+$/.test(runId) ? { runId } : {}),
        });
    }
    return candidates;
}
/**
 * Judges ephemeral candidates by their runs' states. `judged` hears each candidate the moment its
 * verdict is set (at once for those with nothing to look up, else when its run's answer lands).
 */
async function judgeByRun(run, candidates, judged = () => { }) {
    if (candidates.length === 0)
        return;
    const lookup = run.deps.runs;
    const withRun = candidates.filter((c) => c.runId !== undefined);
    for (const c of candidates) {
        if (c.runId === undefined) {
            c.reason += ': no valid github-run-id annotation to look up, kept';
            judged(c);
        }
    }
    if (!lookup) {
        for (const c of withRun)
            c.reason += ': no GitHub token to look its run up, kept';
        if (withRun.length > 0) {
            run.deps.log.warning(`No GitHub token: ${withRun.length} ephemeral branches were kept unchecked`);
        }
        for (const c of withRun)
            judged(c);
        return;
    }
    const byRun = new Map();
    for (const c of withRun)
        byRun.set(c.runId, [...(byRun.get(c.runId) ?? []), c]);
    const done = new Set();
    const settle = (c, s) => {
        if (done.has(c))
            return;
        done.add(c);
        if (s instanceof UnverifiedNotFound) {
            c.unverified = s.permission;
            c.reason += `: ${s.message}; kept`;
        }
        else if (s instanceof Error || s === undefined) {
            c.reason += `: its run could not be looked up (${s instanceof Error ? s.message : 'no answer'}), kept`;
            run.deps.log.warning(`Keeping '${c.branch.name}': ${c.reason}`);
        }
        else {
            c.remove = s !== 'in progress';
            c.reason +=
                s === 'completed'
                    ? ': the run has completed'
                    : s === 'missing'
                        ? ': GitHub does not know the run (counted as completed)'
                        : ': the run is still in progress, kept';
        }
        judged(c);
    };
    const states = await lookup.states([...byRun.keys()], (id, s) => {
        for (const c of byRun.get(id) ?? [])
            settle(c, s);
    });
    // A lookup that does not stream answers only here; one that did has settled all of these already.
    for (const c of withRun)
        settle(c, states.get(c.runId));
}

;// CONCATENATED MODULE: ./src/modes/cleanup/finality.ts
/**
 * When a cleanup candidate's delete is certain, while other candidates are still being judged (their
 * pull request or workflow run look-ups out), so the sweep can start deleting before the last
 * look-up answers (issue 17).
 *
 * A candidate is doomed, for good, when its own rule says delete and every child of it is a
 * candidate that is doomed too: Neon refuses to delete a branch with children, and a child that
 * stays keeps its parent (keepParentsOfKeptChildren). A child that is no candidate, or whose own
 * rule keeps it, settles its parent as kept; a child still unjudged leaves the parent open. This
 * is the same fixpoint keepParentsOfKeptChildren reaches once everything is judged, computed leaves
 * up as the answers land, so a candidate reported here always ends up with `remove` true there.
 *
 * `doomed` is told each such candidate once, a child always before its parent.
 */
class Finality {
    doomed;
    byId = new Map();
    /** Candidates whose own rule has been applied (their `remove` is their own verdict). */
    judged = new Set();
    doomedIds = new Set();
    childIds = new Map();
    constructor(candidates, index, doomed) {
        this.doomed = doomed;
        for (const c of candidates)
            this.byId.set(c.branch.id, c);
        for (const b of index.branches) {
            if (!b.parent_id)
                continue;
            this.childIds.set(b.parent_id, [...(this.childIds.get(b.parent_id) ?? []), b.id]);
        }
    }
    /** `c`'s own rule has been applied; call once its `remove` and `reason` are set. */
    judgedOwn(c) {
        if (this.judged.has(c.branch.id))
            return;
        this.judged.add(c.branch.id);
        this.check(c);
    }
    /** Whether `id` was reported doomed. */
    isDoomed(id) {
        return this.doomedIds.has(id);
    }
    check(c) {
        for (let at = c; at && this.becomesDoomed(at);) {
            this.doomedIds.add(at.branch.id);
            this.doomed(at);
            at = at.branch.parent_id ? this.byId.get(at.branch.parent_id) : undefined;
        }
    }
    becomesDoomed(c) {
        const id = c.branch.id;
        if (this.doomedIds.has(id) || !this.judged.has(id) || !c.remove)
            return false;
        return (this.childIds.get(id) ?? []).every((k) => this.doomedIds.has(k));
    }
}

;// CONCATENATED MODULE: ./src/modes/guards.ts

/**
 * The branches a preview workflow must never touch: handing out the default branch's URL sends
 * migrations to production, and protected branches are protected for a reason. `action` completes
 * "refusing to …", e.g. "reset it".
 */
function refuseUnsafeTarget(branch, action) {
    if (branch.default) {
        throw new Error(`'${escapeControl(branch.name)}' (${branch.id}) is the project's default branch; refusing to ${action}`);
    }
    if (branch.protected) {
        throw new Error(`'${escapeControl(branch.name)}' (${branch.id}) is a protected branch; refusing to ${action}`);
    }
}
/**
 * What this action does to a branch that Neon may restrict, and the name Neon gives it in the
 * branch's `restricted_actions` (API description, Branch.restricted_actions and
 * BranchRestrictedAction: "Possible values include `restore`, `delete-rw-endpoint`").
 * - reset is `POST …/restore`: `restore`, as the description names it (an anonymized branch has it:
 *   BEHAVIOUR.md, "Anonymized branches").
 * - delete is `DELETE /branches/{id}`. The description names no value for it, and says its list is
 *   open ("include"): `delete` is the name by the same rule (the action the request performs). No
 *   source states it; an unknown name never refuses anything, so the guess can only err on Neon's
 *   side, which refuses the request itself.
 */
const RESTRICTABLE = {
    reset: { neonName: 'restore', doing: 'reset it' },
    delete: { neonName: 'delete', doing: 'delete it' },
};
/** Neon's restriction of `action` on the branch, when it has one. */
function restrictionOf(branch, action) {
    return branch.restricted_actions?.find((r) => r.name === RESTRICTABLE[action].neonName);
}
/** A request refused before it was sent, because Neon restricts it on the branch. */
class RestrictedActionError extends Error {
    branch;
    action;
    restriction;
    constructor(branch, action, restriction) {
        super(`Neon restricts '${restriction.name}' on branch '${branch.name}' (${branch.id}): ` +
            `${restriction.reason || 'no reason given'}; refusing to ${RESTRICTABLE[action].doing}. ` +
            `Nothing was changed.`);
        this.branch = branch;
        this.action = action;
        this.restriction = restriction;
        this.name = 'RestrictedActionError';
    }
}
/**
 * Refuses, before any request, what Neon's `restricted_actions` says the branch does not allow,
 * quoting Neon's reason: an anonymized branch cannot be restored, and a request Neon would refuse
 * anyway is better refused with Neon's own explanation than sent. Throws RestrictedActionError.
 */
function refuseRestricted(branch, action) {
    const restriction = restrictionOf(branch, action);
    if (restriction)
        throw new RestrictedActionError(branch, action, restriction);
}

;// CONCATENATED MODULE: ./src/neon/durations.ts
/** Samples kept per action: recent enough to follow a project's habits, enough to trust. */
const KEEP = 20;
/** How many of the project's recent operations a run reads once, when it first waits. */
const HISTORY_LIMIT = 100;
/**
 * How long each action's operations take in this project. Neon's operations carry no ETA, but
 * each finished one carries `total_duration_ms` (BEHAVIOUR.md, Asynchronous operations), and the
 * project's recent operations can be listed in one request: the poller reads that page once per
 * run, before its first wait, and adds every operation it sees finish. With that it can sleep
 * through most of an operation and poll densely around the moment it is expected to end, instead
 * of polling on a fixed back-off that sees the end of a long operation seconds late.
 *
 * How total_duration_ms counts is not documented; the OpenAPI example shows a `running` operation
 * with total_duration_ms 400 while its created_at and updated_at are 4 s apart, so it is read as
 * the time the operation has been running, not counting the wait in the project's queue.
 */
class OperationDurations {
    history;
    samples = new Map();
    /** Finished operations already learned from, so that a page read twice is not counted twice. */
    seen = new Set();
    loading;
    /** `history` reads the project's recent operations (newest first); without it only what this run sees is learned. */
    constructor(history) {
        this.history = history;
    }
    /** Learns from an operation that finished. Anything else (failed, still running, 0 ms) teaches nothing. */
    add(op) {
        if (op.status !== 'finished' || !(op.total_duration_ms > 0))
            return;
        if (op.id !== undefined)
            this.seen.add(op.id);
        const list = this.samples.get(op.action) ?? [];
        list.push(op.total_duration_ms);
        if (list.length > KEEP)
            list.shift();
        this.samples.set(op.action, list);
    }
    has(action) {
        return (this.samples.get(action)?.length ?? 0) > 0;
    }
    /**
     * Learns from a page of the project's operations read for another reason (the wait for the
     * project lock reads it to see what holds the project): it is the same history, so the poller
     * need not read it again.
     */
    learn(ops) {
        this.loading ??= Promise.resolve();
        // Oldest first, as load() does; an operation already learned (from an earlier page, or seen
        // finishing by the poller) is not counted twice.
        for (const op of [...ops].reverse())
            if (!this.seen.has(op.id))
                this.add(op);
    }
    /**
     * The typical duration of an action here (the median of the recent ones) and how much it varies
     * (a standard deviation: from the 16th and 84th percentiles once there are five samples, else a
     * tenth of the median); undefined when none has been seen.
     */
    typical(action) {
        const s = [...(this.samples.get(action) ?? [])].sort((a, b) => a - b);
        if (s.length === 0)
            return undefined;
        const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
        const ms = at(0.5);
        const sd = s.length < 5 ? ms / 10 : (at(0.84) - at(0.16)) / 2;
        return { ms, sd };
    }
    /**
     * Reads the project's history once (later calls share the first). Never fails: without a
     * history the poller falls back to its fixed schedule, which costs polls, not correctness.
     */
    load() {
        this.loading ??= (async () => {
            if (!this.history)
                return;
            try {
                const ops = await this.history();
                // Oldest first, so that the newest stay when more than KEEP of one action are listed.
                for (const op of [...ops].reverse())
                    this.add(op);
            }
            catch {
                // A failed look-up only means a less informed schedule.
            }
        })();
        return this.loading;
    }
    /**
     * The span in which an operation of `action` should end, measured from when it started running:
     * from a little under the shortest recent one to a little over the longest (the 5th and 95th
     * percentile once there are enough samples, so one outlier does not widen it for good).
     */
    window(action) {
        const s = [...(this.samples.get(action) ?? [])].sort((a, b) => a - b);
        if (s.length === 0)
            return undefined;
        const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
        const few = s.length < 5;
        const lo = few ? s[0] * 0.8 : at(0.05) * 0.95;
        const hi = few ? s[s.length - 1] * 1.25 + 50 : at(0.95) * 1.05 + 50;
        return { lo: Math.round(lo), hi: Math.round(hi) };
    }
}
/**
 * What one run knows of a project's durations: its recent history, read once when first needed.
 * One per client and project (NeonClient.durationsOf), shared by the poller and the wait for the
 * project lock, so that the history is read once whichever needs it first.
 */
// `neon` is typed by the one method used (NeonClient has it), not as Pick<NeonClient, ...>: this
// file must not import client.ts, which imports this one.
function projectDurations(neon, projectId) {
    return neon.durationsOf(projectId);
}

;// CONCATENATED MODULE: ./src/neon/types.ts
// --- ours ---
/** Statuses after which an operation will not change again. */
const OPERATION_SUCCESS = new Set(['finished', 'skipped']);
const OPERATION_FAILURE = new Set([
    'failed',
    'error',
    'cancelled',
    'cancelling',
]);

;// CONCATENATED MODULE: ./src/neon/operations.ts


/**
 * 150 ms for 2.5 s, then ×1.6 up to 3.5 s: 38 polls over a 60-second operation (Neon allows 700
 * requests a minute per account, shared by every CI job), and at most ~150 ms late for the short
 * operations that make up nearly every run. Used when nothing says when an operation will end.
 */
const DEFAULT_POLL = { initialMs: 150, fastPhaseMs: 2500, factor: 1.6, maxMs: 3500 };
/** Checks before the expected window: rare, to catch an early failure, not the end. */
const SPARSE_MS = 15_000;
/** The densest polling, within the expected window: about one Neon round trip. */
const DENSE_MIN_MS = 100;
/** The sparsest polling within the window: the budget's own pace (60 s / 40). */
const DENSE_MAX_MS = 1500;
/**
 * At most this many checks in any POLL_WINDOW_MS of one wait: the budget for one long operation,
 * well inside Neon's 700 requests a minute per account (BEHAVIOUR.md, 429), which every CI job of
 * the account shares.
 */
const POLL_BUDGET = 40;
const POLL_WINDOW_MS = 60_000;
/** The checks of one wait in the last POLL_WINDOW_MS: how many more the budget allows, and when. */
class PollBudget {
    perWindow;
    windowMs;
    at = [];
    constructor(perWindow = POLL_BUDGET, windowMs = POLL_WINDOW_MS) {
        this.perWindow = perWindow;
        this.windowMs = windowMs;
    }
    record(now) {
        this.at.push(now);
    }
    left(now) {
        this.trim(now);
        return this.perWindow - this.at.length;
    }
    /** The earliest moment, at or after `t`, at which one more check stays within the budget. */
    earliest(t) {
        const inWindow = this.at.filter((a) => a > t - this.windowMs);
        return inWindow.length < this.perWindow ? t : inWindow[inWindow.length - this.perWindow] + this.windowMs;
    }
    trim(now) {
        while (this.at.length > 0 && this.at[0] <= now - this.windowMs)
            this.at.shift();
    }
}
/**
 * Calls `check` until it reports done, sleeping between calls, and throws a WaitTimeoutError
 * naming `what` once the deadline passes. One check in flight at a time, and never more than
 * POLL_BUDGET checks in any minute.
 */
async function waitUntil(what, check, o, stats, w = {}) {
    const { clock } = o;
    const initial = o.initialMs ?? DEFAULT_POLL.initialMs;
    const fastUntil = clock.now() + (o.fastPhaseMs ?? DEFAULT_POLL.fastPhaseMs);
    const factor = o.factor ?? DEFAULT_POLL.factor;
    const max = o.maxMs ?? DEFAULT_POLL.maxMs;
    const started = clock.now();
    const budget = new PollBudget();
    let delay = initial;
    let overdue = false;
    let lastProgress = started;
    /** How long to sleep before the next check: by the expected window if there is one, else the back-off. */
    const nextWait = (now) => {
        const win = w.expect?.();
        if (win && now < win.from)
            return Math.min(win.from - now, SPARSE_MS);
        if (win && now < win.to) {
            // What is left of the budget spread over what is left of the window, a few kept for after it.
            const spread = (win.to - now) / Math.max(1, budget.left(now) - 3);
            delay = Math.min(DENSE_MAX_MS, Math.max(DENSE_MIN_MS, spread));
            return delay;
        }
        if (win) {
            // Later than expected: back off from the window's pace.
            if (overdue)
                delay = Math.min(max, delay * factor);
            overdue = true;
            return Math.max(DENSE_MIN_MS, delay);
        }
        const d = delay;
        if (now >= fastUntil)
            delay = Math.min(max, delay * factor);
        return d;
    };
    if (w.delayFirst) {
        await clock.sleep(Math.min(nextWait(started), Math.max(0, o.deadline - started)));
        // The expected window may have become known during that sleep (the history arrives while the
        // operation runs): no point checking before it opens.
        const now = clock.now();
        const win = w.expect?.();
        if (win && now < win.from)
            await clock.sleep(Math.min(win.from - now, SPARSE_MS, Math.max(0, o.deadline - now)));
    }
    for (;;) {
        budget.record(clock.now());
        const seen = await check();
        if (stats)
            stats.polls++;
        if (seen.done) {
            if (stats)
                stats.waitedMs += clock.now() - started;
            return seen.value;
        }
        const now = clock.now();
        if (now >= o.deadline) {
            if (stats)
                stats.waitedMs += now - started;
            throw new WaitTimeoutError(what, now - started, seen.state);
        }
        if (o.progress && now - lastProgress >= 10_000) {
            o.progress(`Still waiting for ${what} (${seen.state}, ${Math.round((now - started) / 1000)} s so far)`);
            lastProgress = now;
        }
        let wait = nextWait(now);
        if (seen.notBefore !== undefined && seen.notBefore > now)
            wait = Math.max(wait, seen.notBefore - now);
        wait = budget.earliest(now + wait) - now;
        await clock.sleep(Math.min(wait, Math.max(0, o.deadline - now)));
    }
}
/** Terminal-state predicate shared by every wait on an operation. */
function operationSettled(op) {
    return OPERATION_SUCCESS.has(op.status) || OPERATION_FAILURE.has(op.status);
}
/** Throws when an operation ended in failure, naming its action and Neon's error. */
function assertOperationSucceeded(op) {
    if (OPERATION_FAILURE.has(op.status)) {
        throw new OperationFailedError(op.id, op.action, op.status, op.error);
    }
}
/**
 * Waits for every given operation to succeed, one after the other: Neon runs a project's
 * operations in sequence (BEHAVIOUR.md, 423: new ones are refused while others run; the simulator
 * queues a batch's operations one after another), so polling them in order costs no extra time.
 * Operations already settled in the response that started them are not polled at all.
 *
 * With `durations`, each wait polls where its operation should end. One that is not the last of
 * the chain is checked once, where even a slow one has ended: its end is not what the run waits
 * for. The last one is checked densely over its expected window, which moves whenever a check
 * says how long the operation has been running.
 */
async function waitForOperations(client, projectId, operations, o, stats) {
    const { clock, durations } = o;
    const pending = operations.filter((op) => !operationSettled(op));
    // When the operation now waited for started running, as far as this side can tell.
    let anchor = clock.now();
    // The history is read once per run, only when there is something to wait for, and while the
    // operations run: the schedule uses it from the moment it arrives.
    const history = durations && pending.some((op) => !durations.has(op.action)) ? durations.load() : undefined;
    const lastPending = pending.at(-1);
    try {
        for (const first of operations) {
            let op = first;
            if (!operationSettled(op)) {
                const isLast = op === lastPending;
                let lastCheck = anchor;
                let previousCheck = anchor;
                const settled = await waitUntil(`operation ${op.action} (${op.id})`, async () => {
                    previousCheck = lastCheck;
                    lastCheck = clock.now();
                    op = await client.getOperation(projectId, op.id);
                    // total_duration_ms of a running operation is how long it has run (see OperationDurations).
                    if (op.status === 'running' && op.total_duration_ms > 0)
                        anchor = lastCheck - op.total_duration_ms;
                    else if (op.status === 'scheduling')
                        anchor = Math.max(anchor, lastCheck);
                    const retryAt = op.retry_at ? Date.parse(op.retry_at) : NaN;
                    return {
                        done: operationSettled(op),
                        state: op.status + (op.failures_count > 0 ? `, ${op.failures_count} failures` : ''),
                        value: op,
                        notBefore: Number.isNaN(retryAt) ? undefined : retryAt,
                    };
                }, o, stats, {
                    delayFirst: true,
                    expect: () => {
                        const win = durations?.window(op.action);
                        if (!win)
                            return undefined;
                        return isLast
                            ? { from: anchor + win.lo, to: anchor + win.hi }
                            : { from: anchor + win.hi, to: anchor + win.hi };
                    },
                });
                if (settled)
                    op = settled;
                // The next operation started when this one ended: by this one's own account where it says
                // how long it ran, else halfway between the last two checks.
                const byDuration = anchor + op.total_duration_ms;
                anchor =
                    op.total_duration_ms > 0 && byDuration <= lastCheck && byDuration >= previousCheck
                        ? byDuration
                        : (previousCheck + lastCheck) / 2;
            }
            assertOperationSucceeded(op);
            durations?.add(op);
        }
    }
    finally {
        // Never rejects, and is one request with a 5 s timeout: nothing is left running after the wait.
        await history;
    }
}

;// CONCATENATED MODULE: ./src/modes/types.ts
/**
 * An error that knows what the run had already changed in Neon before it failed, so the user is
 * never left guessing what is half-done.
 */
class ModeError extends Error {
    changes;
    cause;
    constructor(message, changes, cause) {
        super(message);
        this.changes = changes;
        this.cause = cause;
        this.name = 'ModeError';
    }
}

;// CONCATENATED MODULE: ./src/modes/run.ts




/**
 * One mode's run: its deadline (the step's, from the `timeout` input), its polling statistics, and
 * the list of changes made so far, so that a failure can always say what was already done in Neon.
 */
class ModeRun {
    deps;
    inputs;
    started;
    changes = [];
    wait = { polls: 0, waitedMs: 0 };
    poll;
    constructor(deps, inputs) {
        this.deps = deps;
        this.inputs = inputs;
        this.started = deps.clock.now();
        this.poll = {
            ...deps.poll,
            clock: deps.clock,
            deadline: deps.deadline ?? this.started + inputs.timeoutMs,
            progress: (line) => deps.log.info(line),
            durations: projectDurations(deps.neon, inputs.projectId),
        };
    }
    get project() {
        return this.inputs.projectId;
    }
    /**
     * Waits for operations this run started, within the step's deadline: `timeout` bounds the whole
     * step, a sweep of many deletes included.
     */
    waitOps(operations) {
        return waitForOperations(this.deps.neon, this.project, operations, this.poll, this.wait);
    }
    changed(line) {
        this.changes.push(line);
    }
    elapsed() {
        return this.deps.clock.now() - this.started;
    }
    timings(readyMs) {
        return { totalMs: this.elapsed(), ...(readyMs !== undefined ? { readyMs } : {}), wait: this.wait };
    }
    /**
     * Wraps any failure with what was being done and the changes already made. A bad input found
     * only with the project's help (a point outside its history) stays an input error: nothing was
     * changed, and the message already names the input.
     */
    fail(what, e) {
        if (e instanceof ModeError || e instanceof InputError)
            return e;
        const message = e instanceof Error ? e.message : String(e);
        return new ModeError(`${what} failed: ${message}`, this.changes, e);
    }
}

;// CONCATENATED MODULE: ./src/modes/cleanup/index.ts











const cleanup_DAY_MS = 86_400_000;
/**
 * cleanup: the scheduled sweeper. Deletes stale branches under `cleanup_prefix` and never anything
 * else: the default branch, protected branches, branches outside the prefix, another repository's
 * branches and branches of open pull requests are always kept. A branch tied to a pull request of
 * this repository goes when that PR is closed, merged or gone; one tied to none goes when it has not
 * been updated for `cleanup_max_age`. Children go before parents, and a parent whose child stays
 * stays too. Ephemeral CI branches are judged apart, by their workflow run (ephemeral.ts).
 */
async function cleanupMode(deps, inputs, opts = {}) {
    const run = new ModeRun(deps, inputs);
    const { neon, log } = deps;
    const now = deps.clock.now();
    try {
        const index = await BranchIndex.load(neon, run.project);
        log.info(`${index.branches.length} branches in project ${run.project}`);
        // What each delete came to, by branch id; the verdicts are written once everything is judged.
        const outcomes = new Map();
        const deleted = [];
        // Deleted by this run (not found already gone): what the sweep freed.
        const freed = [];
        const deleter = inputs.dryRun
            ? undefined
            : new ChildrenFirstDeleter(run, Math.max(1, opts.deleteConcurrency ?? 1), (b, error) => {
                outcomes.set(b.id, error);
                if (error === undefined)
                    run.changed(`deleted '${b.name}' (${b.id})`);
                if (error === undefined || error === 'gone')
                    deleted.push(b);
                if (error === undefined)
                    freed.push(b);
            });
        let candidates;
        try {
            // A branch whose fate is final goes at once, while the other look-ups are still out.
            const early = deleter && opts.overlap !== false ? (c) => deleter.add(c.branch) : undefined;
            candidates = await judgeBranches(run, index, now, early);
        }
        catch (e) {
            // Start no more deletes, and let those under way finish, so the error lists every change made.
            deleter?.stop();
            await deleter?.finished;
            throw e;
        }
        const doomed = candidates.filter((c) => c.remove).map((c) => c.branch);
        let recoverable;
        if (deleter) {
            // With the overlap every one of these was handed in already (add ignores them); without, all go now.
            deleter.add(...doomed);
            deleter.close();
            await deleter.finished;
            // How to undo each: one listing (with include_deleted) after the sweep, never judged.
            recoverable = await reportRecoverable(deps, run.project, deleted);
        }
        else {
            log.notice(`Dry run: ${doomed.length} of ${candidates.length} candidate branches would be deleted. Nothing was changed.`);
            for (const b of doomed)
                run.changed(`would delete '${b.name}' (${b.id})`);
        }
        const { verdicts, failures } = verdictsOfSweep(candidates, outcomes, index, inputs.dryRun);
        return {
            mode: 'cleanup',
            // A later step reads deleted_branches as what is gone: a dry run deleted nothing.
            deletedBranches: inputs.dryRun ? [] : deleted.map((b) => b.name),
            staleBranches: doomed.map((b) => b.name),
            // The figures of the listing that judged them; in a dry run, what the sweep would free.
            freed: freedReport(inputs.dryRun ? doomed : freed),
            ...(recoverable ? { recoverable } : {}),
            verdicts,
            ...(failures.length ? { failures } : {}),
            changes: run.changes,
            timings: run.timings(),
        };
    }
    catch (e) {
        throw run.fail(`cleanup of project ${run.project}`, e);
    }
}
/** The verdict on each candidate, with what its delete came to, and the deletes that failed. */
function verdictsOfSweep(candidates, outcomes, index, dryRun) {
    const failures = [];
    const verdicts = candidates.map((c) => {
        const v = verdictOf(c, c.remove ? (dryRun ? 'would delete' : 'deleted') : 'kept');
        if (!c.remove || dryRun)
            return v;
        const error = outcomes.get(c.branch.id);
        if (error === 'gone') {
            v.reason += '; it was already gone (204)';
        }
        else if (error !== undefined) {
            v.verdict = 'failed';
            v.reason += `; delete failed: ${error}`;
        }
        return v;
    });
    // Failures in the order the deletes ended, as before.
    for (const [id, error] of outcomes) {
        if (error === undefined || error === 'gone')
            continue;
        const b = index.get(id);
        failures.push(`'${escapeControl(b.name)}' (${b.id}): ${escapeControl(error)}`);
    }
    return { verdicts, failures };
}
/**
 * The cleanup rules, in one place: every branch of `index` that `mode: cleanup` considers (under
 * `cleanup_prefix`, neither default nor protected), with whether the rules delete it now and why.
 * cleanupMode deletes what they choose; create's `on_branch_limit: make-room` (branch-limit.ts)
 * deletes the oldest of the same choice, so the two can never disagree. Ages are taken at `now`.
 *
 * `doomed`, when given, is told each candidate the moment its delete is certain (Finality): its own
 * rule says delete and nothing still being looked up can change that. Children come before their
 * parents; everything told ends with `remove` true in the returned list, and by the time it returns
 * every candidate with `remove` true has been told (a lookup that does not stream its answers tells
 * them all at its end).
 */
async function judgeBranches(run, index, now, doomed) {
    const { inputs } = run;
    const candidates = index.branches
        .filter((b) => b.name.startsWith(inputs.cleanupPrefix) &&
        !b.default &&
        !b.protected &&
        !isEphemeral(index.annotations[b.id]))
        .map((b) => ({
        branch: b,
        ageDays: (now - Date.parse(b.updated_at)) / cleanup_DAY_MS,
        remove: false,
        reason: '',
    }));
    warnAboutPrefix(run, index);
    for (const c of candidates) {
        const o = ownership(index.annotations[c.branch.id], run.deps.context);
        if (o.kind === 'foreign') {
            c.foreign = o.repo;
            c.reason = `annotated for another repository (${o.repo}, ${o.key}): not ours`;
        }
        else {
            c.tie = tieOf(c.branch, index.annotations[c.branch.id], inputs.cleanupPrefix, o.kind === 'ours');
        }
    }
    // Ephemeral CI branches, whatever their prefix, judged by their workflow run.
    const ephemeral = ephemeralCandidates(run, index, now);
    const all = [...candidates, ...ephemeral];
    const finality = new Finality(all, index, doomed ?? (() => { }));
    // Every verdict passes here on its way to Finality: a delete Neon restricts is never sent.
    const judged = (c) => {
        keepIfRestricted(c);
        finality.judgedOwn(c);
    };
    // What needs no look-up first, so those deletes can start before any answer is in: another
    // repository's branches (kept), the age rule, and a tie by name that the age rule keeps anyway.
    const maxDays = inputs.cleanupMaxAgeMs / cleanup_DAY_MS;
    const old = (c) => c.ageDays * cleanup_DAY_MS > inputs.cleanupMaxAgeMs;
    for (const c of candidates) {
        if (c.foreign !== undefined) {
            judged(c);
        }
        else if (!c.tie) {
            c.remove = old(c);
            c.reason = c.remove
                ? `tied to no pull request; not updated for ${fmtDays(c.ageDays)} (> ${fmtDays(maxDays)})`
                : `tied to no pull request; updated ${fmtDays(c.ageDays)} ago (≤ ${fmtDays(maxDays)})`;
            judged(c);
        }
        else if (c.tie.by === 'name' && !old(c)) {
            // Whatever its pull request's state, the name alone never dooms it before cleanup_max_age.
            c.youngNameTie = true;
            c.reason =
                `PR #${c.tie.pr} only ${weakly(c.tie)}; updated ${fmtDays(c.ageDays)} ago (≤ ${fmtDays(maxDays)}), ` +
                    `so kept whatever that pull request's state`;
            judged(c);
        }
    }
    const toLookUp = candidates.filter((c) => c.tie && (c.tie.by === 'annotation' || old(c)));
    await judgeByPullRequest(run, toLookUp, maxDays, judged);
    await judgeByRun(run, ephemeral, judged);
    warnUnverified(run, all);
    keepParentsOfKeptChildren(run, index, all);
    return all;
}
/**
 * A branch whose delete Neon restricts (`restricted_actions`, guards.ts) stays, whatever its own
 * rule says, with Neon's reason in the verdict; its parent then stays too (keepParentsOfKeptChildren).
 */
function keepIfRestricted(c) {
    const restriction = restrictionOf(c.branch, 'delete');
    if (!c.remove || !restriction)
        return;
    c.remove = false;
    c.reason += `; kept: Neon restricts '${restriction.name}' on it (${restriction.reason || 'no reason given'})`;
}
/** A judged branch as a row of the verdict table. */
function verdictOf(c, verdict) {
    return {
        branch: c.branch.name,
        branchId: c.branch.id,
        ...(c.tie ? { pr: c.tie.pr } : {}),
        ...(c.prState ? { prState: c.prState } : {}),
        ageDays: Math.round(c.ageDays * 10) / 10,
        verdict,
        reason: c.reason,
    };
}
/**
 * Annotation first (it survives renames); else a `pr-<n>` in the name under the prefix. For a
 * branch that is not another repository's (judgeBranches asks ownership.ts first). A
 * `github-pr-number` annotation ties the branch to this repository's pull request only when its
 * repository annotations make it this repository's (`ours`, ownership.ts): without them the number
 * may be another repository's or another tool's, and it ties no more than a name does (kept while
 * that pull request is open, otherwise judged by `cleanup_max_age`).
 */
function tieOf(branch, annotation, prefix, ours) {
    const a = annotation?.value ?? {};
    const n = Number(a['github-pr-number']);
    if (Number.isInteger(n) && n > 0)
        return ours ? { pr: n, by: 'annotation' } : { pr: n, by: 'name', unowned: true };
    const m = branch.name.slice(prefix.length).match(/(?:^|[^a-z0-9])pr-(\d+)(?![0-9])/i);
    if (m?.[1])
        return { pr: Number(m[1]), by: 'name' };
    return undefined;
}
/**
 * Judges the candidates tied to a pull request of this repository (`ours`: none is another
 * repository's); `judged` hears each as its verdict is set. A tie by annotation goes with its pull
 * request; a tie by name only is kept while that pull request is open, and otherwise judged by
 * age, like a branch tied to none (only old ones are handed in: a young one is kept whatever).
 */
async function judgeByPullRequest(run, ours, maxDays, judged) {
    if (ours.length === 0)
        return;
    const lookup = run.deps.pulls;
    if (!lookup) {
        for (const c of ours) {
            c.reason = `tied to PR #${c.tie.pr}, but no GitHub token to look it up: kept`;
            judged(c);
        }
        run.deps.log.warning(`No GitHub token: ${ours.length} branches tied to pull requests were kept unchecked`);
        return;
    }
    const byPr = new Map();
    for (const c of ours)
        byPr.set(c.tie.pr, [...(byPr.get(c.tie.pr) ?? []), c]);
    const done = new Set();
    const settle = (c, s) => {
        if (done.has(c))
            return;
        done.add(c);
        const pr = `PR #${c.tie.pr}${c.tie.by === 'name' ? ` (${c.tie.unowned ? 'from an annotation without this repository' : 'from the name'})` : ''}`;
        if (s instanceof UnverifiedNotFound) {
            c.prState = 'unknown';
            c.unverified = s.permission;
            c.reason = `${pr}: ${s.message}; kept`;
        }
        else if (s instanceof Error || s === undefined) {
            c.prState = 'unknown';
            c.reason = `${pr} could not be looked up (${s instanceof Error ? s.message : 'no answer'}): kept`;
            run.deps.log.warning(`Keeping '${c.branch.name}': ${c.reason}`);
        }
        else {
            c.prState = s;
            c.remove = s !== 'open';
            c.reason = s === 'open' ? `${pr} is open` : s === 'missing' ? `${pr} does not exist` : `${pr} is ${s}`;
            if (c.remove && c.tie.by === 'name') {
                // Only old ones were looked up (judgeBranches): the age rule, as for a branch tied to none.
                c.reason += `; tied only ${weakly(c.tie)}, so judged by age: not updated for ${fmtDays(c.ageDays)} (> ${fmtDays(maxDays)})`;
            }
        }
        judged(c);
    };
    const states = await lookup.states([...byPr.keys()], (n, s) => {
        for (const c of byPr.get(n) ?? [])
            settle(c, s);
    });
    // A lookup that does not stream answers only here; one that did has settled all of these already.
    for (const c of ours)
        settle(c, states.get(c.tie.pr));
}
/**
 * Neon cannot delete a branch with children. A stale branch whose child stays (not stale, not a
 * candidate, or protected) stays too, with a warning naming the child; that can keep its own
 * parent, so this runs until nothing changes.
 */
function keepParentsOfKeptChildren(run, index, candidates) {
    const byId = new Map(candidates.map((c) => [c.branch.id, c]));
    for (let changed = true; changed;) {
        changed = false;
        for (const c of candidates) {
            if (!c.remove)
                continue;
            const kept = index.children(c.branch.id).find((k) => !byId.get(k.id)?.remove);
            if (!kept)
                continue;
            c.remove = false;
            c.heldByChild = true;
            c.reason += `; kept because its child '${kept.name}' (${kept.id}) stays`;
            run.deps.log.warning(`Keeping stale branch '${c.branch.name}': its child '${kept.name}' is not being deleted`);
            changed = true;
        }
    }
}
/**
 * Deletes `doomed` leaves first, each delete waited for (its operations) before its parent's turn,
 * at most `concurrency` at once (ChildrenFirstDeleter). A failure is reported through `done` and
 * does not stop the sweep; a branch whose child failed to go is not attempted (Neon would refuse it).
 */
async function deleteChildrenFirst(run, doomed, concurrency, done) {
    const deleter = new ChildrenFirstDeleter(run, Math.max(1, concurrency), done);
    deleter.add(...doomed);
    deleter.close();
    await deleter.finished;
}
/**
 * A prefix that does not end in `/` also matches names it was perhaps not meant for: `preview`
 * takes `preview-prod` and `previewer/x` as well as `preview/…`. Said, with those of the project.
 */
function warnAboutPrefix(run, index) {
    const prefix = run.inputs.cleanupPrefix;
    if (prefix.endsWith('/'))
        return;
    const also = index.branches
        .filter((b) => b.name.startsWith(prefix) && !b.name.startsWith(`${prefix}/`))
        .map((b) => b.name)
        .sort();
    const listed = also.slice(0, 10).map((n) => `'${n}'`);
    run.deps.log.warning(`cleanup_prefix '${prefix}' does not end in '/': it matches every name that starts with it, such as ` +
        `'${prefix}-anything' or '${prefix}x/…', not only '${prefix}/…'. ` +
        (also.length === 0
            ? `No branch of this project is such a name now.`
            : `In this project it also matches ${also.length} branch(es) outside '${prefix}/': ` +
                `${listed.join(', ')}${also.length > listed.length ? ', …' : ''}.`) +
        ` End it with '/' unless that is meant.`);
}
/**
 * One warning per permission the token was not shown to have: a 404 from it cannot be believed
 * (github/pulls.ts, readProof), so every branch depending on one was kept; the warning names the
 * permission and those branches. A warning, not a failure: nothing was deleted on that answer, the
 * rest of the sweep stands, and the next sweep with the permission judges them.
 */
function warnUnverified(run, all) {
    const byPermission = new Map();
    for (const c of all) {
        if (c.unverified)
            byPermission.set(c.unverified, [...(byPermission.get(c.unverified) ?? []), c]);
    }
    for (const [permission, kept] of byPermission) {
        const names = kept.slice(0, 20).map((c) => `'${escapeControl(c.branch.name)}' (${c.branch.id})`);
        const what = permission === 'actions: read' ? 'workflow runs' : 'pull requests';
        run.deps.log.warning(`The GitHub token was not shown to read this repository's ${what}, so GitHub's 404 for one cannot be ` +
            `told from "this token may not see it": kept ${kept.length} branch(es) that depend on such an answer: ` +
            `${names.join(', ')}${kept.length > names.length ? ', …' : ''}. Give the workflow ` +
            `'permissions: ${permission}' (a fine-grained token: the same permission) so that cleanup can judge them.`);
    }
}
/** How a tie of name strength came about, for a verdict's reason. */
function weakly(tie) {
    return tie.unowned
        ? 'by a github-pr-number annotation, without any repository annotation of this repository'
        : 'by its name';
}
function fmtDays(days) {
    return days >= 1 ? `${Math.round(days * 10) / 10} d` : `${Math.round(days * 24 * 10) / 10} h`;
}

;// CONCATENATED MODULE: ./src/util/settle.ts
/**
 * Runs independent requests side by side and waits for every one of them, so that no request is
 * still running when a failure is reported; then gives their values, or throws the first failure
 * in the order given (the order the caller would have made them in one after another).
 */
async function allFinished(promises) {
    const results = await Promise.allSettled(promises);
    for (const r of results)
        if (r.status === 'rejected')
            throw r.reason;
    return results.map((r) => r.value);
}

;// CONCATENATED MODULE: ./src/neon/anonymization.ts

/** States after which a masking run will not move on by itself. */
const FAILED_STATES = new Set(['error', 'initialization_error']);
const DONE_STATE = 'anonymized';
/**
 * Neon's masking ended in `error` or `initialization_error`. The message carries Neon's
 * status_message for the log; `publicMessage` leaves it out for the pull request comment and the
 * job summary, since it can name the tables and columns that Neon marks `x-sensitive`.
 */
class AnonymizationFailedError extends Error {
    branch;
    state;
    statusMessage;
    publicMessage;
    constructor(branch, state, statusMessage) {
        const head = `Neon's masking of branch '${branch.name}' (${branch.id}) ended in '${state}'`;
        super(`${head}: ${statusMessage?.trim() || '(Neon gave no status message)'}`);
        this.branch = branch;
        this.state = state;
        this.statusMessage = statusMessage;
        this.name = 'AnonymizationFailedError';
        this.publicMessage =
            `${head} (Neon's status message is in the run log: it can name masked columns, so it is kept out ` +
                `of the pull request comment and the job summary)`;
    }
    /** Adds what was done about it (the branch deleted, or not) to both messages. */
    addNote(note) {
        this.message = `${this.message.replace(/\.?$/, '.')} ${note}`;
        this.publicMessage = `${this.publicMessage.replace(/\.?$/, '.')} ${note}`;
    }
}
/**
 * Polls until the masking is done, and returns the final status; throws AnonymizationFailedError
 * on `error` / `initialization_error`, and WaitTimeoutError past the deadline.
 *
 * Right after `POST …/anonymize` the status may still be the previous run's `anonymized` (or
 * `error`): a terminal state is believed only when the run it reports started after `since`'s,
 * or once a state in progress has been seen since.
 */
async function waitForAnonymized(w, poll, stats) {
    const before = w.since?.last_run?.started_at;
    let moving = w.since === undefined || !isTerminal(w.since.state);
    let lastMessage;
    const status = await waitUntil(`Neon to mask branch '${w.branch.name}' (${w.branch.id})`, async () => {
        const s = await w.status();
        if (!isTerminal(s.state))
            moving = true;
        const fresh = moving || (s.last_run?.started_at !== undefined && s.last_run.started_at !== before);
        if (s.status_message && s.status_message !== lastMessage && !FAILED_STATES.has(s.state)) {
            lastMessage = s.status_message;
            w.progress?.(`Masking '${w.branch.name}': ${s.state}: ${s.status_message}`);
        }
        return { done: fresh && isTerminal(s.state), state: s.state, value: s };
    }, poll, stats, { delayFirst: w.since !== undefined && !isTerminal(w.since.state) });
    const final = status ?? (await w.status());
    if (FAILED_STATES.has(final.state))
        throw new AnonymizationFailedError(w.branch, final.state, final.status_message);
    return final;
}
function isTerminal(state) {
    return state === DONE_STATE || FAILED_STATES.has(state);
}
/** `masked_columns` of the last run, when Neon reports it. */
function maskedColumns(s) {
    const n = s.last_run?.masked_columns;
    return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

;// CONCATENATED MODULE: ./src/modes/anonymized.ts





/**
 * The annotation by which Neon's CLI labels a branch `[anon]` (`neon` 5.0.1,
 * `dist/commands/branches.js`); written by this action too, so that the label, and adoption
 * without rules, do not depend on whether Neon adds it itself.
 */
const ANONYMIZED_ANNOTATION = 'anonymized';
/** POST /branch_anonymized: the plain create's body as `branch_create`, the rules, start at once. */
function anonymizedCreateRequest(body, rules) {
    const { annotation_value, ...branchCreate } = body;
    return {
        branch_create: branchCreate,
        masking_rules: rules,
        start_anonymization: true,
        annotation_value: { ...(annotation_value ?? {}), [ANONYMIZED_ANNOTATION]: 'true' },
    };
}
/** Whether what the branch list says about a branch suggests that it is anonymized (no request). */
function looksAnonymized(found) {
    return (found.annotation?.value[ANONYMIZED_ANNOTATION] !== undefined ||
        (found.branch.restricted_actions ?? []).some((a) => a.name === 'restore'));
}
/**
 * The branch's masking state, or null when it is not an anonymized branch: Neon keeps status
 * "only [for] anonymized branches" (API description, getAnonymizedBranchStatus), and answers a
 * plain one with a refusal whose status it does not document; every 4xx but the ones a retry or
 * a key is about is read as "not anonymized".
 */
async function readAnonymizedStatus(run, branch) {
    try {
        return await run.deps.neon.getAnonymizedStatus(run.project, branch.id);
    }
    catch (e) {
        if (notAnonymized(e))
            return null;
        throw e;
    }
}
function notAnonymized(e) {
    return (e instanceof NeonApiError &&
        e.status >= 400 &&
        e.status < 500 &&
        ![401, 403, 408, 423, 429].includes(e.status));
}
function report(s, rules, remasked) {
    const n = maskedColumns(s);
    return {
        ...(n !== undefined ? { maskedColumns: n } : {}),
        ...(rules !== undefined ? { rules } : {}),
        remasked,
    };
}
function waitFor(run, branch, since) {
    const { neon, log } = run.deps;
    return waitForAnonymized({
        branch,
        status: () => neon.getAnonymizedStatus(run.project, branch.id),
        ...(since ? { since } : {}),
        progress: (line) => log.info(line),
    }, run.poll, run.wait);
}
/**
 * After the create's operations: waits until Neon has masked the new branch. A failed masking
 * deletes the branch (it holds the parent's data, unmasked, which nobody asked for) and says so.
 */
async function awaitNewBranchMasking(run, branch, rules) {
    run.deps.log.info(`Waiting for Neon to mask branch '${branch.name}' with ${countRules(rules)}`);
    return settleMasking(run, branch, async () => report(await waitFor(run, branch), rules, false));
}
/** Runs `work`; when the masking failed, deletes the branch before the failure goes on. */
async function settleMasking(run, branch, work) {
    try {
        return await work();
    }
    catch (e) {
        if (e instanceof AnonymizationFailedError)
            await deleteUnmasked(run, branch, e);
        throw e;
    }
}
async function deleteUnmasked(run, branch, e) {
    const { neon, log } = run.deps;
    log.info(`Deleting branch '${branch.name}' (${branch.id}): its data is not masked as the rules ask`);
    try {
        refuseRestricted(branch, 'delete');
        // For good (hard_delete): a soft-deleted branch could be recovered, unmasked data and all, for 7 days.
        const res = await neon.deleteBranch(run.project, branch.id, { hard: true });
        if (res) {
            run.changed(`deleted branch '${branch.name}' (${branch.id}) for good, whose data was not masked`);
            // Neon took the delete: should the step's deadline pass while its operations run, the branch
            // goes all the same, and the note says so rather than asking for a delete already made.
            await run.waitOps(res.operations).catch((w) => {
                e.addNote(`Neon accepted the delete of the branch; waiting for it to finish stopped ` +
                    `(${w instanceof Error ? w.message : String(w)}).`);
            });
        }
        run.deps.ephemeral?.nothing();
        e.addNote('The branch was deleted for good (hard_delete: it cannot be recovered), as it held data that was ' +
            'not masked as the rules ask; fix the rules (or wait for Neon) and run again to create it anew.');
    }
    catch (d) {
        e.addNote(`Deleting the branch, which holds data that is not masked as the rules ask, failed too ` +
            `(${d instanceof Error ? d.message : String(d)}): delete it now (mode: delete, or the Neon console).`);
    }
}
/**
 * adoptMasking for a branch just recovered (create on a reopen, `mode: recover`): the same checks,
 * and on top, without masking rules, a branch that looks anonymized and was never masked
 * (`initialized`: no masking run started) fails as a failed masking does, so that settleMasking
 * deletes it for good rather than hand out its unmasked data.
 */
async function recoveredMasking(run, found, masking) {
    if (!masking && looksAnonymized(found)) {
        const status = await readAnonymizedStatus(run, found.branch);
        if (status?.state === 'initialized') {
            const failed = new AnonymizationFailedError(found.branch, status.state, status.status_message || 'the branch was never masked');
            return () => Promise.reject(failed);
        }
    }
    return adoptMasking(run, found, masking);
}
/** What adoptMasking would do, from the same reads; changes nothing. */
async function dryRunMasking(run, branch, masking) {
    const { status, current } = await anonymized_readMasking(run, branch, masking);
    if (status.state === 'anonymized' && sameRules(current, masking.rules)) {
        return `its ${countRules(current.length)} match ${masking.source}: nothing to mask again`;
    }
    return sameRules(current, masking.rules)
        ? `it is '${status.state}': would mask it again with its ${countRules(current.length)}`
        : `would replace its masking rules (${current.length} → ${masking.rules.length}) and mask it again`;
}
/** The branch's masking status and rules, read side by side; an error when it is not anonymized. */
async function anonymized_readMasking(run, branch, masking) {
    const [status, current] = await allFinished([
        readAnonymizedStatus(run, branch),
        run.deps.neon.getMaskingRules(run.project, branch.id).catch((e) => {
            if (notAnonymized(e))
                return null;
            throw e;
        }),
    ]);
    if (!status || !current) {
        throw new Error(`branch '${branch.name}' (${branch.id}) is not an anonymized branch: its data is an unmasked copy of ` +
            `its parent, and ${masking.source} asks for masked data. Nothing was changed. Delete it (mode: delete) ` +
            `and run create again for an anonymized branch, or drop the rules for a plain one.`);
    }
    return { status, current };
}
/**
 * An adopted branch, checked against the workflow's rules (reads only, side by side). Returns
 * what finishes the job: nothing more when the branch is masked with the same rules (in any
 * order); otherwise the rules replaced (PATCH) and a new masking run started, whose end it waits
 * for. A branch that is not anonymized is an error, before any change: its data is a plain copy.
 * What it returns throws AnonymizationFailedError when the masking failed: the caller runs it
 * within settleMasking, beside the other work on the branch, so that the branch is deleted only
 * once nothing else is in flight on it.
 */
async function adoptMasking(run, found, masking) {
    const { branch } = found;
    const { neon, log } = run.deps;
    if (!masking) {
        if (!looksAnonymized(found))
            return async () => undefined;
        const status = await readAnonymizedStatus(run, branch);
        if (!status)
            return async () => undefined;
        log.notice(`Branch '${branch.name}' is an anonymized branch, and masking_rules is not set: its masking rules are ` +
            `left as they are.`);
        return async () => {
            if (FAILED_STATES.has(status.state)) {
                throw new AnonymizationFailedError(branch, status.state, status.status_message);
            }
            return report(isTerminal(status.state) ? status : await waitFor(run, branch, status), undefined, false);
        };
    }
    const rules = masking.rules;
    const { status, current } = await anonymized_readMasking(run, branch, masking);
    let s = status;
    if (!isTerminal(s.state) && s.state !== 'initialized') {
        // Another run's masking (a concurrent create, or one whose wait ran out): see where it ends.
        log.info(`Branch '${branch.name}' is being masked already (${s.state}); waiting for that first`);
        s = await waitFor(run, branch, s).catch(async (e) => {
            if (e instanceof AnonymizationFailedError)
                return neon.getAnonymizedStatus(run.project, branch.id);
            throw e;
        });
    }
    if (s.state === 'initialization_error') {
        // Neon starts a masking run from `initialized`, `error` or `anonymized` only (API description,
        // startAnonymization): this branch cannot be masked any more.
        const failed = new AnonymizationFailedError(branch, s.state, s.status_message);
        return () => Promise.reject(failed);
    }
    const differ = !sameRules(current, rules);
    if (s.state === 'anonymized' && !differ) {
        log.info(`Branch '${branch.name}' is masked with the same ${countRules(rules.length)}; nothing to do`);
        const done = s;
        return async () => report(done, rules.length, false);
    }
    if (differ) {
        await neon.updateMaskingRules(run.project, branch.id, rules);
        run.changed(`replaced the branch's masking rules (${current.length} → ${rules.length})`);
    }
    if (s.state === 'anonymized') {
        log.warning(`Branch '${branch.name}' is masked again, with the rules of ${masking.source}. Neon masks the data ` +
            `the branch holds now, which is masked already: a column whose rule was removed keeps its masked ` +
            `values, and no original value comes back. For data masked afresh from the parent, run mode: reset ` +
            `(it re-creates an anonymized branch).`);
    }
    else {
        log.info(`Branch '${branch.name}' is '${s.state}': masking it with ${countRules(rules.length)}`);
    }
    const started = await startMasking(run, branch);
    run.changed(`started masking the branch again`);
    return async () => report(await waitFor(run, branch, started), rules.length, true);
}
/**
 * POST …/anonymize. Refused (a 4xx) while a run is under way, which another run can have started
 * between our read and our request: then that run is waited for instead.
 */
async function startMasking(run, branch) {
    const { neon, log } = run.deps;
    try {
        return await neon.startAnonymization(run.project, branch.id);
    }
    catch (e) {
        if (!(e instanceof NeonApiError) || e.status < 400 || e.status >= 500)
            throw e;
        const now = await neon.getAnonymizedStatus(run.project, branch.id);
        if (now.state !== 'created' && now.state !== 'anonymizing')
            throw e;
        log.info(`Neon refused a new masking run of '${branch.name}' (${e.status}): one is under way; waiting for it`);
        return now;
    }
}
/** The rules a re-created branch gets: the workflow's, or else the branch's own. */
async function rulesForRecreation(run, r) {
    if (r.masking)
        return { rules: r.masking.rules, source: r.masking.source };
    const rules = await run.deps.neon.getMaskingRules(run.project, r.branch.id);
    if (rules.length === 0) {
        throw new Error(`branch '${r.branch.name}' (${r.branch.id}) is anonymized but has no masking rules, and masking_rules ` +
            `is not set: give the rules to re-create it with. Nothing was changed.`);
    }
    return { rules, source: `the branch's own rules` };
}
/**
 * reset of an anonymized branch: Neon cannot reset or restore one (BEHAVIOUR.md; its
 * `restricted_actions` says so), so it is deleted, and made anew from the parent as an anonymized
 * branch with the same name, then masked, then prepared as create prepares one. Its id, host and
 * password change: the caller's result says so. A failure after the delete says that the old
 * branch is gone (run.changes lists it).
 */
async function recreateAnonymized(run, r, rules) {
    const { neon, log } = run.deps;
    const { branch } = r;
    log.info(`Branch '${branch.name}' is anonymized, and Neon cannot reset it` +
        `${r.reason ? ` (${r.reason.replace(/\.$/, '')})` : ''}: re-creating it from '${r.source.name}' with ` +
        `freshly masked data. Its id, host and password change.`);
    if (r.preserveAs !== undefined) {
        const renamed = await neon.updateBranch(run.project, branch.id, { name: r.preserveAs });
        run.changed(`renamed branch '${branch.name}' (${branch.id}) to '${r.preserveAs}' to re-create it`);
        await run.waitOps(renamed.operations);
    }
    else {
        // One whose data is not known to be masked (its masking failed, or never ran) goes for good.
        const hard = !r.masked;
        const gone = await neon.deleteBranch(run.project, branch.id, { hard });
        if (gone) {
            run.changed(`deleted branch '${branch.name}' (${branch.id})${hard ? ' for good' : ''} to re-create it`);
            await run.waitOps(gone.operations);
        }
    }
    const res = await neon.createAnonymizedBranch(run.project, anonymizedCreateRequest(r.body, rules));
    run.changed(`created anonymized branch '${res.branch.name}' (${res.branch.id}) in its place`);
    log.info(`Created anonymized branch '${res.branch.name}' (${res.branch.id}); waiting for ${res.operations.length} operations`);
    await run.waitOps(res.operations);
    return { res, report: { rules: rules.length, remasked: false } };
}

;// CONCATENATED MODULE: ./src/modes/branch-limit.ts





/** Branches listed in an error message; the log lists every one. */
const MAX_LISTED = 10;
/**
 * The project's branch limit, for create: when Neon refuses the new branch for it (422
 * BRANCHES_LIMIT_EXCEEDED), `on_branch_limit: fail` fails saying the limit, the count and what the
 * cleanup rules would delete; `make-room` deletes the oldest of those (children first), only as many
 * as the create needs, and retries the create once. The rules are cleanup's own (judgeBranches), so
 * make-room can never delete what `mode: cleanup` would keep.
 */
class BranchLimit {
    run;
    report;
    constructor(run) {
        this.run = run;
    }
    /**
     * Runs `attempt` (the create request); on a branch-limit refusal, fails or makes room and retries
     * once. `first`, when given, runs on the refusal before anything else and may end it by throwing:
     * a create that skipped its look-up asks there whether the name exists after all.
     */
    async create(attempt, first) {
        try {
            return await attempt();
        }
        catch (e) {
            if (!isBranchLimit(e))
                throw e;
            await first?.(e);
            return await this.onRefusal(e, attempt);
        }
    }
    /**
     * For a dry run of a create: when the project is at its limit, the lines saying so and what
     * make-room would delete. Two requests when it is not at its limit, nothing deleted ever.
     */
    async plan() {
        const { neon } = this.run.deps;
        const limit = (await neon.getProject(this.run.project)).owner?.branches_limit;
        const count = await neon.countBranches(this.run.project);
        if (limit === undefined || count < limit)
            return [];
        const survey = await this.survey(limit, count);
        const at = `the project is at its branch limit (${count} of ${limit} branches)`;
        if (this.run.inputs.onBranchLimit === 'fail' || survey.stale.length === 0) {
            this.logStale(survey);
            const why = describeSurvey(survey, this.run).replace(/\n/g, ' ');
            return [`${at}: Neon would refuse the create, and the step would fail. ${why}`];
        }
        const groups = pickRoom(survey, roomNeeded(survey));
        const made = groups.flat().map((c) => verdictOf(c, 'would delete'));
        this.report = { limit, count, madeRoom: made };
        return made.map((v) => `would delete stale branch '${v.branch}' (${v.branchId}) to make room (${at}): ${v.reason}`);
    }
    /** What the result carries about the limit: nothing unless the project was at it. */
    result() {
        if (!this.report)
            return {};
        const names = this.report.madeRoom.map((v) => v.branch);
        return {
            branchLimit: this.report,
            deletedBranches: this.run.inputs.dryRun ? [] : names,
            staleBranches: names,
            // No listing to learn the exact window: the create is waiting, and the documented one is said.
            ...(this.run.inputs.dryRun || names.length === 0
                ? {}
                : {
                    recoverable: unknownWindows(this.report.madeRoom.map((v) => ({ id: v.branchId, name: v.branch }))),
                }),
        };
    }
    async onRefusal(refusal, attempt) {
        const { log } = this.run.deps;
        let survey;
        try {
            const project = await this.run.deps.neon.getProject(this.run.project);
            const count = await this.run.deps.neon.countBranches(this.run.project);
            survey = await this.survey(project.owner?.branches_limit, count);
        }
        catch (e) {
            throw withContext(`Neon refused the branch for the project's branch limit (${refusal.message}); then`, e);
        }
        const at = atLimit(survey, refusal);
        this.logStale(survey);
        this.refuseWithoutRoom(at, survey);
        const needed = roomNeeded(survey);
        const made = [];
        const failures = [];
        let freed = 0;
        const byId = new Map(survey.judged.map((c) => [c.branch.id, c]));
        for (const group of roomGroups(survey)) {
            if (freed >= needed)
                break;
            await deleteChildrenFirst(this.run, group.map((c) => c.branch), 1, (b, error) => {
                const c = byId.get(b.id);
                if (error === undefined) {
                    freed++;
                    made.push(verdictOf(c, 'deleted'));
                    this.run.changed(`deleted stale branch '${b.name}' (${b.id}) to make room: ${c.reason}`);
                    log.info(`Deleted stale branch '${b.name}' (${b.id}) to make room: ${c.reason}`);
                    log.info(undoLine({ id: b.id, name: b.name }));
                }
                else if (error === 'gone') {
                    // Most likely another run making room at the same moment: that place is its, not ours.
                    log.info(`'${b.name}' (${b.id}) was already gone (another run made room with it, or it expired); ` +
                        `it frees no place for this run`);
                }
                else {
                    failures.push(`'${escapeControl(b.name)}' (${b.id}): ${error}`);
                    log.warning(`Could not delete '${b.name}' (${b.id}) to make room: ${error}`);
                }
            });
        }
        this.report = { limit: survey.limit, count: survey.count, madeRoom: made };
        if (freed < needed) {
            throw new Error(`${at} on_branch_limit: make-room deleted ${freed} of the ${needed} branch(es) it needed` +
                (failures.length ? `; failed to delete: ${failures.join('; ')}` : '') +
                `; no other stale branch was left to try.`);
        }
        log.info(`Made room: ${made.length} stale branch(es) deleted; retrying the create once`);
        try {
            return await attempt();
        }
        catch (e) {
            if (!isBranchLimit(e))
                throw e;
            throw new Error(`${at} make-room deleted ${made.map((v) => `'${v.branch}'`).join(', ')}, but Neon refused the ` +
                `create again (${e.message}): another run took the place first. Re-run the job to ` +
                `make room again.`);
        }
    }
    /** With `on_branch_limit: fail`, or nothing stale to delete: the refusal, with what could be done. */
    refuseWithoutRoom(at, survey) {
        const byHand = `Delete a branch by hand, or raise the limit (Neon's plans set it).`;
        if (this.run.inputs.onBranchLimit === 'fail') {
            const hint = survey.stale.length > 0
                ? `Set on_branch_limit: make-room to delete the oldest of them (only as many as the create ` +
                    `needs) and create, or run mode: cleanup.`
                : byHand;
            throw new Error([at, describeSurvey(survey, this.run), hint].join('\n'));
        }
        if (survey.stale.length === 0) {
            const none = 'on_branch_limit: make-room found nothing the cleanup rules allow it to delete.';
            throw new Error([at, none, describeSurvey(survey, this.run), byHand].join('\n'));
        }
    }
    async survey(limit, count) {
        const index = await BranchIndex.load(this.run.deps.neon, this.run.project);
        const judged = await judgeBranches(this.run, index, this.run.deps.clock.now());
        const stale = judged
            .filter((c) => c.remove)
            .sort((a, b) => b.ageDays - a.ageDays || (a.branch.name < b.branch.name ? -1 : 1));
        return { limit, count, index, judged, stale };
    }
    /** The log gets every stale branch; messages list the first MAX_LISTED. */
    logStale(s) {
        const { log } = this.run.deps;
        log.info(`Branch limit: ${s.count} of ${s.limit ?? '?'} branches; mode: cleanup would delete ${s.stale.length}`);
        for (const c of s.stale)
            log.info(`  stale: ${staleLine(c)}`);
    }
}
/** Places the create needs: one, or more when the project is past its limit (a plan lowered under it). */
function roomNeeded(s) {
    return Math.max(1, s.limit !== undefined ? s.count - s.limit + 1 : 1);
}
/**
 * The deletes make-room would do, in groups: the oldest stale branch with its descendants (which
 * must go first, and are stale too, or the rules would have kept it), then the next, until the
 * groups free `needed` places. A real run takes the same groups one by one (roomGroups) and counts
 * only the deletes that were its own.
 */
function pickRoom(s, needed) {
    const groups = [];
    let freed = 0;
    for (const group of roomGroups(s)) {
        if (freed >= needed)
            break;
        groups.push(group);
        freed += group.length;
    }
    return groups;
}
/** Every group make-room may delete, oldest stale branch first; each branch in one group only. */
function* roomGroups(s) {
    const byId = new Map(s.judged.map((c) => [c.branch.id, c]));
    const taken = new Set();
    for (const root of s.stale) {
        const group = subtree(root, s, byId).filter((c) => !taken.has(c.branch.id));
        if (group.length === 0)
            continue;
        for (const c of group)
            taken.add(c.branch.id);
        yield group;
    }
}
/**
 * A stale branch and all its descendants, descendants first. Empty when a descendant is not stale:
 * the cleanup rules never let that happen, and make-room deletes nothing they would keep.
 */
function subtree(root, s, byId) {
    const out = [];
    const visit = (c, seen) => {
        if (seen.has(c.branch.id))
            return true;
        seen.add(c.branch.id);
        for (const k of s.index.children(c.branch.id)) {
            const kc = byId.get(k.id);
            if (!kc?.remove || !visit(kc, seen))
                return false;
        }
        out.push(c);
        return true;
    };
    return visit(root, new Set()) ? out : [];
}
function atLimit(s, refusal) {
    return (`the project is at its branch limit: ${s.count} of ${s.limit ?? 'an unknown number of'} branches ` +
        `(${refusal.message}).`);
}
function staleLine(c) {
    const age = `${Math.round(c.ageDays * 10) / 10} days since its last update`;
    return `'${escapeControl(c.branch.name)}' (${c.branch.id}): ${escapeControl(c.reason)}; ${age}`;
}
/** What cleanup would delete (the first MAX_LISTED) and what holds the rest of the quota. */
function describeSurvey(s, run) {
    const lines = [];
    if (s.stale.length > 0) {
        lines.push(`mode: cleanup with these inputs would delete ${s.stale.length} branch(es) now, oldest first:`);
        for (const c of s.stale.slice(0, MAX_LISTED))
            lines.push(`- ${staleLine(c)}`);
        if (s.stale.length > MAX_LISTED)
            lines.push(`- … and ${s.stale.length - MAX_LISTED} more (see the log)`);
    }
    else {
        lines.push(`mode: cleanup with these inputs would delete none of them now.`);
    }
    lines.push(`What holds the quota: ${quotaBreakdown(s, run.inputs.cleanupPrefix)}.`);
    return lines.join('\n');
}
/** "1 default branch, 2 outside cleanup_prefix 'preview/', 7 under it: 4 of open pull requests, …" */
function quotaBreakdown(s, prefix) {
    const all = s.index.branches;
    const parts = [];
    const n = (k, what) => {
        if (k > 0)
            parts.push(`${k} ${what}`);
    };
    n(all.filter((b) => b.default).length, 'default branch');
    n(all.filter((b) => !b.default && b.protected).length, 'protected');
    n(all.filter((b) => !b.default && !b.protected && !b.name.startsWith(prefix)).length, `outside cleanup_prefix '${prefix}'`);
    const why = new Map(KEPT_BECAUSE.map((k) => [k, 0]));
    for (const c of s.judged) {
        const k = c.remove ? 'stale' : keptBecause(c);
        why.set(k, (why.get(k) ?? 0) + 1);
    }
    if (s.judged.length > 0) {
        const counts = [...why].filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`);
        parts.push(`${s.judged.length} under it: ${counts.join(', ')}`);
    }
    return `${all.length} branches listed: ${parts.join(', ')}`;
}
/** The breakdown's categories, in the order it names them. */
const KEPT_BECAUSE = [
    'stale',
    'of open pull requests',
    'of another repository',
    'whose pull request could not be looked up',
    'kept as parents of branches that stay',
    'updated within cleanup_max_age',
];
function keptBecause(c) {
    if (c.heldByChild)
        return 'kept as parents of branches that stay';
    if (c.prState === 'open')
        return 'of open pull requests';
    if (c.foreign !== undefined)
        return 'of another repository';
    if (c.tie && !c.youngNameTie)
        return 'whose pull request could not be looked up';
    return 'updated within cleanup_max_age';
}

;// CONCATENATED MODULE: ./src/neon/connection-string.ts
const POOLER_SUFFIX = '-pooler';
// Neon cold starts can take a few seconds; Prisma's 5 s default fails them, 15 s rides them out.
const PRISMA_TIMEOUT_SECONDS = 15;
/**
 * The pooled host for a Neon endpoint host: `-pooler` appended to the first DNS label
 * (`ep-x-1.region.aws.neon.tech` → `ep-x-1-pooler.region.aws.neon.tech`). Idempotent.
 *
 * @throws Error when `host` is empty.
 */
function poolerHost(host) {
    if (host === '')
        throw new Error('Cannot derive a pooler host from an empty host name.');
    const dot = host.indexOf('.');
    const first = dot === -1 ? host : host.slice(0, dot);
    const rest = dot === -1 ? '' : host.slice(dot);
    if (first.endsWith(POOLER_SUFFIX))
        return host;
    return `${first}${POOLER_SUFFIX}${rest}`;
}
/**
 * Builds `postgresql://<role>:<password>@<host>[:port]/<database>?<params>` for the direct and pooled hosts.
 * Role, password and database are percent-encoded, so any characters survive a URL parser.
 * Parameters, in order: `sslmode` (unless `omit`), `channel_binding=require`, then for Prisma
 * `connect_timeout=15` on both and `pgbouncer=true&pool_timeout=15` on the pooled URL only.
 *
 * @throws Error when the host is empty; RangeError when `port` is not an integer from 1 to 65535.
 */
function buildConnectionUrls(c) {
    if (c.port !== undefined && (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535)) {
        throw new RangeError(`Invalid port ${c.port}; expected an integer from 1 to 65535.`);
    }
    const hostPooled = poolerHost(c.host);
    const common = [];
    if (c.ssl !== 'omit')
        common.push(`sslmode=${c.ssl}`);
    if (c.channelBinding)
        common.push('channel_binding=require');
    if (c.prisma)
        common.push(`connect_timeout=${PRISMA_TIMEOUT_SECONDS}`);
    // Prisma must be told it talks to PgBouncer (no prepared statements) only on the pooled connection.
    const pooled = c.prisma ? [...common, 'pgbouncer=true', `pool_timeout=${PRISMA_TIMEOUT_SECONDS}`] : common;
    const build = (host, params) => {
        const auth = `${encodeURIComponent(c.role)}:${encodeURIComponent(c.password)}`;
        const port = c.port === undefined ? '' : `:${c.port}`;
        const query = params.length === 0 ? '' : `?${params.join('&')}`;
        return `postgresql://${auth}@${host}${port}/${encodeURIComponent(c.database)}${query}`;
    };
    return { dbUrl: build(c.host, common), dbUrlPooled: build(hostPooled, pooled), host: c.host, hostPooled };
}

;// CONCATENATED MODULE: ./src/modes/connect.ts







/**
 * What a create's answer tells once its operations are done: the branch is ready and, when a
 * start_compute of its read_write compute was among them, the compute is active; its roles,
 * databases and (in `connection_uris`) the role's password are known. So prepareConnection asks
 * nothing twice.
 */
function madeFromCreate(res, role) {
    let endpoint = res.endpoints.find((e) => e.type === 'read_write');
    if (endpoint &&
        res.operations.some((o) => o.action === 'start_compute' && o.endpoint_id === endpoint?.id)) {
        endpoint = { ...endpoint, current_state: 'active' };
    }
    return {
        branch: { ...res.branch, current_state: 'ready' },
        known: {
            endpoint,
            roles: res.roles.map((r) => r.name),
            databases: res.databases.map((d) => d.name),
            password: res.connection_uris?.find((c) => c.connection_parameters.role === role)?.connection_parameters
                .password,
        },
    };
}
/**
 * Brings a branch to the point where the outputs can be used: ready, with a usable read_write
 * compute, the role and the database present; returns the masked connection details, when the
 * branch became ready, and the Neon Auth and Data API URLs the inputs ask for.
 */
async function prepareConnection(run, branch, known = {}) {
    const { inputs, deps } = run;
    const { neon } = deps;
    const ready = await ensureBranchReady(run, branch);
    // The reads do not depend on each other, so they go out together: on an adopted branch (every
    // push after the first) that is two round trips instead of four before the outputs, and the
    // Neon Auth and Data API reads ride along. What they find missing is then created one thing at a
    // time, as before (the database needs the role).
    const askPassword = known.password === undefined && (known.roles === undefined || known.roles.includes(inputs.role));
    const [services, endpoints, revealed, databases] = await allFinished([
        readServices(run, ready),
        // Without a known endpoint (then `endpoints` is what ensureEndpoint needs).
        known.endpoint ? undefined : neon.listBranchEndpoints(run.project, ready.id),
        // A 404 for the password is the answer "no such role" (null): ensureRole creates it.
        askPassword
            ? neon.revealPassword(run.project, ready.id, inputs.role).catch((e) => {
                if (isNotFound(e))
                    return null;
                throw e;
            })
            : undefined,
        known.databases ?? neon.listDatabases(run.project, ready.id).then((ds) => ds.map((d) => d.name)),
    ]);
    const usable = await ensureEndpointUsable(run, known.endpoint ?? (await ensureEndpoint(run, ready, endpoints)));
    const endpoint = await ensureComputeSize(run, usable);
    const readyMs = run.elapsed();
    const current = known.password ?? (await ensureRole(run, ready, revealed ?? null, known.roles));
    await ensureDatabase(run, ready, databases);
    const password = inputs.resetPassword ? await resetPassword(run, ready) : current;
    const urls = buildConnectionUrls({
        host: endpoint.host,
        role: inputs.role,
        password,
        database: inputs.database,
        ssl: inputs.ssl,
        channelBinding: inputs.channelBinding,
        prisma: inputs.prisma,
    });
    for (const secret of [urls.dbUrl, urls.dbUrlPooled])
        deps.setSecret(secret);
    const computeUnits = sizeOf(endpoint);
    return {
        branch: ready,
        readyMs,
        ...(computeUnits ? { computeUnits } : {}),
        ...services,
        connection: { urls, password, role: inputs.role, database: inputs.database, endpointId: endpoint.id },
    };
}
/** The URLs a result carries: only those asked for. */
function servicesOf(p) {
    return {
        ...(p.authUrl !== undefined ? { authUrl: p.authUrl } : {}),
        ...(p.dataApiUrl !== undefined ? { dataApiUrl: p.dataApiUrl } : {}),
    };
}
async function readServices(run, branch) {
    const { inputs, deps } = run;
    const where = `branch '${branch.name}' (${branch.id})`;
    const [auth, dataApi] = await allFinished([
        inputs.getAuthUrl ? deps.neon.getNeonAuth(run.project, branch.id) : undefined,
        inputs.getDataApiUrl ? deps.neon.getDataApi(run.project, branch.id, inputs.database) : undefined,
    ]);
    const services = {};
    if (inputs.getAuthUrl) {
        services.authUrl = auth?.base_url || null;
        if (auth === null) {
            deps.log.notice(`Neon Auth is not enabled on ${where}: the auth_url output is empty.`);
        }
        else if (!services.authUrl) {
            deps.log.notice(`Neon Auth is enabled on ${where}, but Neon reported no base_url: auth_url is empty.`);
        }
    }
    if (inputs.getDataApiUrl) {
        services.dataApiUrl = dataApi?.url || null;
        if (!services.dataApiUrl) {
            deps.log.notice(`The Data API is not enabled for database '${inputs.database}' on ${where}: the data_api_url output is empty.`);
        }
    }
    return services;
}
async function ensureBranchReady(run, branch) {
    if (branch.current_state === 'ready')
        return branch;
    const { neon, log } = run.deps;
    log.info(`Waiting for branch '${branch.name}' to be ready (now '${branch.current_state}')`);
    const ready = await waitUntil(`branch '${escapeControl(branch.name)}' (${branch.id}) to be ready`, async () => {
        const b = await neon.getBranch(run.project, branch.id);
        return { done: b.current_state === 'ready', state: b.current_state, value: b };
    }, run.poll, run.wait, { delayFirst: true });
    return ready ?? branch;
}
/** The branch's read_write endpoint among `endpoints`, created when an adopted branch has none. */
async function ensureEndpoint(run, branch, endpoints) {
    const { neon, log } = run.deps;
    const { inputs } = run;
    const existing = endpoints.find((e) => e.type === 'read_write');
    if (existing)
        return existing;
    log.info(`Branch '${branch.name}' has no read_write compute; creating one`);
    const res = await neon.createEndpoint(run.project, {
        branch_id: branch.id,
        type: 'read_write',
        ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
        ...computeRequest(inputs.computeUnits),
    });
    run.changed(`created read_write compute ${res.endpoint.id}`);
    await run.waitOps(res.operations);
    return res.operations.some((o) => o.action === 'start_compute')
        ? { ...res.endpoint, current_state: 'active' }
        : res.endpoint;
}
/** `compute_units` as Neon's endpoint fields (OpenAPI BranchCreateRequestEndpointOptions, EndpointUpdateRequest). */
function computeRequest(cu) {
    return cu ? { autoscaling_limit_min_cu: cu.min, autoscaling_limit_max_cu: cu.max } : {};
}
/** The compute's size as Neon reports it, or undefined when it does not. */
function sizeOf(e) {
    const min = e.autoscaling_limit_min_cu;
    const max = e.autoscaling_limit_max_cu;
    return typeof min === 'number' && typeof max === 'number' ? { min, max } : undefined;
}
/**
 * Gives an existing compute of another size the size `compute_units` asks for
 * (PATCH /projects/{id}/endpoints/{id}), and waits for Neon to apply it. A size the plan does not
 * allow is Neon's to refuse; its message is passed on.
 */
async function ensureComputeSize(run, endpoint) {
    const want = run.inputs.computeUnits;
    const have = sizeOf(endpoint);
    if (!want || (have && have.min === want.min && have.max === want.max))
        return endpoint;
    const from = have ? describeComputeUnits(have) : 'an unreported size';
    run.deps.log.info(`Resizing compute ${endpoint.id} from ${from} to ${describeComputeUnits(want)}`);
    const res = await run.deps.neon.updateEndpoint(run.project, endpoint.id, computeRequest(want));
    run.changed(`resized compute ${endpoint.id} from ${from} to ${describeComputeUnits(want)}`);
    await run.waitOps(res.operations);
    // The answer is the compute before its operations ran: keep its state as we knew it.
    return { ...endpoint, ...computeRequest(sizeOf(res.endpoint) ?? want) };
}
/** Active or idle (suspended, wakes on connect) are usable; init is not yet, and disabled never. */
async function ensureEndpointUsable(run, endpoint) {
    if (endpoint.disabled) {
        throw new Error(`compute ${endpoint.id} of the branch is disabled; enable it in the Neon console`);
    }
    if (endpoint.current_state !== 'init')
        return endpoint;
    const usable = await waitUntil(`compute ${endpoint.id} to start`, async () => {
        const all = await run.deps.neon.listBranchEndpoints(run.project, endpoint.branch_id);
        const e = all.find((x) => x.id === endpoint.id);
        if (!e)
            throw new Error(`compute ${endpoint.id} disappeared while starting`);
        return { done: e.current_state !== 'init', state: e.current_state, value: e };
    }, run.poll, run.wait, { delayFirst: true });
    return usable ?? endpoint;
}
/**
 * Returns the role's password, creating the role first when the branch lacks it. `revealed` is the
 * answer to asking for its password (one request answers both "does the role exist?" and "what is
 * its password?"): null when there is no such role (Neon's 404, or known from the create's answer).
 * A role that is not there may be a typo of one that is: the notice names the roles the branch has
 * (`roles`, from the create's answer, or read when unknown).
 */
async function ensureRole(run, branch, revealed, roles) {
    const { neon, log } = run.deps;
    const { role } = run.inputs;
    if (revealed !== null)
        return revealed;
    const there = roles ?? (await neon.listRoles(run.project, branch.id));
    log.notice(`Role '${escapeControl(role)}' does not exist on branch '${escapeControl(branch.name)}'; creating it. The branch's ` +
        `roles are ${there.length ? there.map((r) => `'${escapeControl(r)}'`).join(', ') : 'none'}: if 'role' is a ` +
        `typo of one of them, correct it (the new role owns nothing the others made).`);
    try {
        const res = await neon.createRole(run.project, branch.id, role);
        run.changed(`created role '${role}'`);
        await run.waitOps(res.operations);
        return res.role.password ?? (await neon.revealPassword(run.project, branch.id, role));
    }
    catch (e) {
        // A concurrent run created it between our look and our create.
        if (!isConflict(e))
            throw e;
        return neon.revealPassword(run.project, branch.id, role);
    }
}
/** What a dry run adds to its line with `reset_password: true`. */
function passwordResetText(inputs) {
    return inputs.resetPassword ? `, and give role '${inputs.role}' a new password (reset_password)` : '';
}
/**
 * `reset_password: true`: Neon gives the role a new password (the old one stops authenticating),
 * masked the moment the answer arrives (the client's onSecret), and its operations are waited for
 * so the URLs handed out work. A failure after the request is said as such: the old password may
 * no longer work and the new one was not confirmed, so no URL is handed out (the mode fails).
 */
async function resetPassword(run, branch) {
    const { neon, log } = run.deps;
    const { role } = run.inputs;
    const res = await neon.resetRolePassword(run.project, branch.id, role);
    run.changed(`reset the password of role '${role}'`);
    log.info(`Reset the password of role '${role}' on branch '${branch.name}' (reset_password); the old one no ` +
        `longer authenticates. Waiting for ${res.operations.length} operations`);
    try {
        await run.waitOps(res.operations);
    }
    catch (e) {
        throw new Error(`the password of role '${role}' on branch '${escapeControl(branch.name)}' (${branch.id}) was reset, but ` +
            `waiting for Neon to apply it failed (${e instanceof Error ? e.message : String(e)}): the old ` +
            `password may no longer work and the new one is not confirmed, so no connection URL was handed ` +
            `out. Run the step again (without reset_password, or with it for yet another password).`, { cause: e });
    }
    const password = res.role.password ?? (await neon.revealPassword(run.project, branch.id, role));
    run.deps.setSecret(password);
    return password;
}
async function ensureDatabase(run, branch, names) {
    const { neon, log } = run.deps;
    const { database, role } = run.inputs;
    if (names.includes(database))
        return;
    log.info(`Creating database '${database}' owned by '${role}' on branch '${branch.name}'`);
    try {
        const res = await neon.createDatabase(run.project, branch.id, database, role);
        run.changed(`created database '${database}'`);
        await run.waitOps(res.operations);
    }
    catch (e) {
        if (!isConflict(e))
            throw e;
    }
}
/**
 * prepareConnection and, beside it, refreshExpiry for a branch that is already ready: the PATCH
 * depends on nothing the reads find, so it shares their round trip. Both are waited for; the
 * first failure (prepareConnection's, refreshExpiry only warns) is thrown.
 */
async function prepareWithExpiry(run, branch, known = {}) {
    if (branch.current_state !== 'ready') {
        const prepared = await prepareConnection(run, branch, known);
        return [prepared, await refreshExpiry(run, prepared.branch)];
    }
    return allFinished([prepareConnection(run, branch, known), refreshExpiry(run, branch)]);
}
/**
 * Pushes an existing branch's expiry out again (every push keeps an active PR's branch alive, and a
 * reset restarts the TTL), or removes it when the user now asks for `never`. A refusal (a branch
 * with children cannot expire) is a warning: the branch is still usable.
 */
async function refreshExpiry(run, branch) {
    const target = expiryTimestamp(run.inputs.expiry, new Date(run.deps.clock.now()));
    const current = branch.expires_at ?? null;
    if (target === null && current === null)
        return null;
    try {
        const res = await run.deps.neon.updateBranch(run.project, branch.id, { expires_at: target });
        run.changed(target ? `expiry moved to ${target}` : 'expiry removed');
        return res.branch.expires_at ?? target;
    }
    catch (e) {
        if (!(e instanceof NeonApiError))
            throw e;
        run.deps.log.warning(`Could not refresh the expiry of branch '${branch.name}': ${e.message}`);
        return current;
    }
}

;// CONCATENATED MODULE: ./src/modes/history-window.ts




/**
 * Refuses a `parent_branch` timestamp that Neon no longer (or never) holds, before any change:
 * the project keeps `history_retention_seconds` of history (GET /projects/{id}; BEHAVIOUR.md,
 * "Limits of a project"), and a branch has no history before it was created. An LSN cannot be
 * placed in time without Neon, so Neon judges it and its refusal is passed on.
 */
async function checkHistoryWindow(run, source, point, text) {
    if (point?.timestampMs === undefined)
        return;
    const project = await run.deps.neon.getProject(run.project);
    const retention = project.history_retention_seconds;
    const now = run.deps.clock.now();
    const retained = retention === undefined ? -Infinity : now - retention * 1000;
    const created = Date.parse(source.created_at);
    const start = Number.isFinite(created) ? Math.max(retained, created) : retained;
    if (point.timestampMs >= start)
        return;
    const bound = start === created
        ? `'${escapeControl(source.name)}' (${source.id}) was created at ${iso(created)} and has no history before that`
        : `project ${run.project} keeps ${formatDuration((retention ?? 0) * 1000)} of history ` +
            `(history_retention_seconds = ${retention})`;
    throw new InputError(INPUTS.parentBranch, `Invalid input '${INPUTS.parentBranch}': '${text}'. The timestamp ${point.timestamp} is outside ` +
        `the history Neon can branch from: ${bound}, so the allowed window is ${iso(start)} to now ` +
        `(${iso(now)}). Choose a time inside it. The retention is set per project: in the Neon console ` +
        `under Settings → Instant restore, or with history_retention_seconds in PATCH /projects/{project_id}.`);
}
function iso(ms) {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

;// CONCATENATED MODULE: ./src/modes/point.ts
/** `parent_branch` as the user wrote it (the branch and its `@point`), for messages. */
function parentText(inputs) {
    const p = inputs.parentPoint;
    const at = p?.lsn ?? p?.timestamp;
    return `${inputs.parentBranch ?? ''}${at !== undefined ? `@${at}` : ''}`;
}
/** `schemaOnly` for a branch Neon made with `init_source: schema-only` (no rows of its parent). */
function schemaOnly(branch) {
    return branch.init_source === 'schema-only' ? { schemaOnly: true } : {};
}
/**
 * Where a branch starts on its parent, as Neon reports it, and (when `parent_branch` asked for a
 * point) how that point reads in the comment and summary: the point asked, with the other coordinate
 * Neon resolved it to when it reports one.
 */
function pointInfo(branch, asked) {
    const info = {};
    if (branch.parent_lsn)
        info.parentLsn = branch.parent_lsn;
    if (branch.parent_timestamp)
        info.parentTimestamp = branch.parent_timestamp;
    if (asked?.timestamp !== undefined) {
        info.pointInTime = `${asked.timestamp}${branch.parent_lsn ? ` (LSN ${branch.parent_lsn})` : ''}`;
    }
    else if (asked?.lsn !== undefined) {
        info.pointInTime = `LSN ${asked.lsn}${branch.parent_timestamp ? ` (${branch.parent_timestamp})` : ''}`;
    }
    return info;
}

;// CONCATENATED MODULE: ./src/modes/recover.ts















/** The recoverable branches a failed `mode: recover` lists, closest names first. */
const CLOSEST_LISTED = 5;
/**
 * Recovers one deleted branch (POST …/recover: no operations to wait for; the branch comes back
 * with its endpoints idle, its hosts and passwords as they were, and without an expiry).
 */
async function recoverDeleted(run, found) {
    const { branch } = found;
    const deletedAt = branch.recovery.deleted_at;
    const res = await run.deps.neon.recoverBranch(run.project, branch.id);
    run.changed(`recovered branch '${branch.name}' (${branch.id}), deleted at ${deletedAt}`);
    run.deps.log.info(`Recovered branch '${escapeControl(branch.name)}' (${branch.id}), deleted at ${deletedAt}; its data and URL are as they were`);
    const endpoint = res.endpoints.find((e) => e.type === 'read_write');
    return {
        branch: res.branch,
        ...(found.annotation ? { annotation: found.annotation } : {}),
        known: endpoint ? { endpoint } : {},
        recovery: {
            deletedAt,
            ...(branch.recovery.deletion_method ? { deletionMethod: branch.recovery.deletion_method } : {}),
        },
    };
}
/**
 * Whether Neon refused a recovery outright (a 4xx): the feature is not offered to the account, the
 * branch is gone for good, its name is taken again, … Then create makes a new branch instead. A
 * 408, or a 423/429 that outlived the retries, is a failure like any other request's, as is a 5xx
 * or no answer (the recovery may have happened).
 */
function refusedRecovery(e) {
    return (e instanceof NeonApiError &&
        e.status >= 400 &&
        e.status < 500 &&
        e.status !== 408 &&
        e.status !== 423 &&
        e.status !== 429);
}
/**
 * Annotated for another repository, by the one ownership rule (ownership.ts) every other path uses:
 * the repository the annotation names, or undefined. A `github-repo-id` decides alone when the run
 * has one too, so a renamed repository keeps its deleted branches.
 */
function annotatedForOtherRepository(annotation, context) {
    const o = ownership(annotation, context);
    return o.kind === 'foreign' ? o.repo : undefined;
}
/**
 * Whether create may recover this deleted branch by itself: ownership.ts says it is this
 * repository's (not merely "unknown"), it is tied to the same pull request (or none, outside a
 * pull request), and it is not a CI job's ephemeral branch. A branch tied by its name only is never
 * taken: another repository sharing the Neon project, or a hand-made branch, could carry the name.
 */
function tiedToThisRun(annotation, context) {
    const a = annotation?.value;
    if (!a || ownership(annotation, context).kind !== 'ours')
        return false;
    if (a['github-ephemeral'] === 'true')
        return false;
    const pr = context.pullRequest ? String(context.pullRequest.number) : undefined;
    return a['github-pr-number'] === pr;
}
/**
 * Whether create recovers a deleted branch by itself on this event: only on a pull request
 * `reopened` (closing deleted the branch; reopening means it back). On every other event a branch
 * that was deleted (by hand, to revoke a password or for a fresh copy, or by the action) stays
 * deleted, and a new one is made: a push must never revive it. `mode: recover` is the explicit way.
 */
function recoversOnThisEvent(context) {
    return isPullRequestEvent(context.eventName) && context.action === 'reopened';
}
/** Why a deleted branch is not this pull request's, for the log (one line: annotations are anyone's text). */
function whyNotOurs(found, context) {
    return escapeControl(whyNot(found, context));
}
function whyNot(found, context) {
    const a = found.annotation?.value ?? {};
    const o = ownership(found.annotation, context);
    const which = `'${escapeControl(found.branch.name)}' (${found.branch.id}, deleted at ${found.branch.recovery.deleted_at})`;
    if (o.kind === 'foreign')
        return `${which} is annotated for repository ${o.repo} (${o.key})`;
    if (o.kind === 'unknown')
        return `${which} carries no repository annotation this run can check`;
    if (a['github-ephemeral'] === 'true')
        return `${which} is a CI job's ephemeral branch`;
    return a['github-pr-number']
        ? `${which} belongs to pull request #${a['github-pr-number']}`
        : `${which} belongs to no pull request`;
}
/** What `recover` would do, said and returned without changing anything (`dry_run`). */
function dryRunRecovery(run, branch) {
    const line = `would recover branch '${branch.name}' (${branch.id}), deleted at ${branch.recovery.deleted_at}, ` +
        `and make sure its compute, role and database exist`;
    run.deps.log.notice(`Dry run: ${line}. Nothing was changed.`);
    run.changed(line);
    return {
        mode: 'recover',
        branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, expiresAt: null },
        ...usageField(branch),
        created: false,
        recovered: false,
        changes: run.changes,
        timings: run.timings(),
    };
}
/**
 * recover (for workflow_dispatch): brings back the deleted branch `branch_name` names (a name: the
 * most recently deleted of that name; or a `br-…` id) and hands it out as create does: ready, the
 * role and the database there, the expiry set again (a recovered branch has none), the outputs.
 *
 * A branch of that name that is live is handed out as it is (a re-run of a recover that worked),
 * unless a deleted one of the name exists too: then the name is taken, and Neon could not bring
 * the deleted one back under it. Nothing recoverable by that name is an error listing the
 * recoverable branches whose names are closest. A branch annotated for another repository is
 * never recovered.
 */
async function recoverMode(deps, inputs) {
    const ref = resolveBranchName(inputs, deps.context);
    // reset_password is for create and reset: a recovered branch keeps its password as it was.
    const run = new ModeRun(deps, { ...inputs, resetPassword: false });
    const { neon, log } = deps;
    try {
        const found = await findBranchWithDeleted(neon, run.project, ref);
        const candidates = found.deleted;
        if (found.live && (candidates.length === 0 || isBranchId(ref)))
            return await handOutLive(run, found.live);
        if (found.live) {
            throw new Error(`'${ref}' is the name of a live branch (${found.live.branch.id}) and of ${candidates.length} deleted ` +
                `one(s) (${candidates.map((c) => c.branch.id).join(', ')}): branch names are unique, so Neon cannot ` +
                `bring a deleted one back under it. Rename or delete the live branch first, then run recover ` +
                `with the deleted branch's id. Nothing was changed.`);
        }
        const mine = candidates.filter((c) => !annotatedForOtherRepository(c.annotation, deps.context));
        const target = mine[0];
        if (!target) {
            if (candidates.length > 0) {
                throw new Error(`the deleted branch(es) ${candidates.map((c) => whyNotOurs(c, deps.context)).join('; ')}: ` +
                    `a branch annotated for another repository is never recovered by this one. Nothing was changed.`);
            }
            throw await nothingRecoverable(run, ref);
        }
        if (mine.length > 1) {
            log.notice(`${mine.length} deleted branches are named '${escapeControl(ref)}'; recovering the most recently deleted, ` +
                `${target.branch.id} (deleted at ${target.branch.recovery.deleted_at}). The others: ` +
                `${mine
                    .slice(1)
                    .map((c) => `${c.branch.id} (deleted at ${c.branch.recovery.deleted_at})`)
                    .join(', ')}; give branch_name the id of the one you want.`);
        }
        if (inputs.dryRun)
            return dryRunRecovery(run, target.branch);
        const recovered = await recoverDeleted(run, target);
        const [anonymization, [prepared, expiresAt]] = await handOutRecovered(run, recovered);
        return {
            mode: 'recover',
            branch: {
                id: recovered.branch.id,
                name: recovered.branch.name,
                parentId: recovered.branch.parent_id,
                ...pointOf(recovered.branch),
                expiresAt,
            },
            created: false,
            recovered: true,
            recovery: recovered.recovery,
            connection: prepared.connection,
            ...(anonymization ? { anonymization } : {}),
            ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
            ...servicesOf(prepared),
            ...usageField(prepared.branch),
            changes: run.changes,
            timings: run.timings(prepared.readyMs),
        };
    }
    catch (e) {
        throw run.fail(`recover of branch '${ref}'`, e);
    }
}
/**
 * A recovered branch, checked as a found one is before anything is handed out: never the default
 * or a protected branch, never another repository's (ownership.ts, from the annotations the
 * listing showed), and, when it looks anonymized, masked (adoptMasking; one never masked, or whose
 * masking failed, is deleted again for good by settleMasking, and nothing is handed out).
 */
function checkRecovered(run, recovered) {
    const { branch, annotation } = recovered;
    refuseUnsafeTarget(branch, 'hand it out');
    const o = ownership(annotation, run.deps.context);
    if (o.kind === 'foreign')
        throw foreignBranchError(branch, o, run.deps.context, run.project);
    return { branch, ...(annotation ? { annotation } : {}) };
}
/** recover's hand-out of a recovered branch: checked (checkRecovered), masked, made ready. */
async function handOutRecovered(run, recovered) {
    const found = checkRecovered(run, recovered);
    const finish = await recoveredMasking(run, found, run.inputs.masking);
    return settleMasking(run, recovered.branch, () => allFinished([finish(), prepareWithExpiry(run, recovered.branch, recovered.known)]));
}
/** A live branch named by recover: handed out as create would adopt it, never another repository's. */
async function handOutLive(run, found) {
    const { branch } = found;
    const o = ownership(found.annotation, run.deps.context);
    if (o.kind === 'foreign')
        throw foreignBranchError(branch, o, run.deps.context, run.project);
    refuseUnsafeTarget(branch, 'hand it out');
    run.deps.log.notice(`Branch '${escapeControl(branch.name)}' (${branch.id}) is not deleted: nothing to recover. Handing it out as it is` +
        `${run.inputs.dryRun ? ' (dry run: nothing was changed)' : ''}.`);
    if (run.inputs.dryRun) {
        return {
            mode: 'recover',
            branch: {
                id: branch.id,
                name: branch.name,
                parentId: branch.parent_id,
                expiresAt: branch.expires_at ?? null,
            },
            created: false,
            recovered: false,
            changes: run.changes,
            timings: run.timings(),
        };
    }
    const finish = await adoptMasking(run, found, run.inputs.masking);
    const [anonymization, [prepared, expiresAt]] = await settleMasking(run, branch, () => allFinished([finish(), prepareWithExpiry(run, branch)]));
    return {
        mode: 'recover',
        ...(anonymization ? { anonymization } : {}),
        branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, ...pointOf(branch), expiresAt },
        created: false,
        recovered: false,
        connection: prepared.connection,
        ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
        ...servicesOf(prepared),
        ...usageField(prepared.branch),
        changes: run.changes,
        timings: run.timings(prepared.readyMs),
    };
}
/** Where the branch starts on its parent, and whether it holds only a schema, as create reports them. */
function pointOf(b) {
    return {
        ...(b.parent_lsn ? { parentLsn: b.parent_lsn } : {}),
        ...(b.parent_timestamp ? { parentTimestamp: b.parent_timestamp } : {}),
        ...schemaOnly(b),
    };
}
/** The error of a recover that finds nothing: the recoverable branches whose names are closest. */
async function nothingRecoverable(run, ref) {
    const what = isBranchId(ref) ? `with id or name '${ref}'` : `named '${ref}'`;
    const all = (await listRecoverable(run.deps.neon, run.project)).sort(byDeletion);
    if (all.length === 0) {
        return new Error(`no deleted branch ${what} can be recovered in project ${run.project}, and Neon lists no recoverable ` +
            `branch there at all: nothing was deleted in the last 7 days, or the account is not offered branch ` +
            `recovery (a preview). Nothing was changed.`);
    }
    const closest = all
        .map((c) => ({ c, d: Math.min(distance(ref, c.branch.name), distance(ref, c.branch.id)) }))
        .sort((x, y) => x.d - y.d)
        .slice(0, CLOSEST_LISTED)
        .map(({ c }) => `'${escapeControl(c.branch.name)}' (${c.branch.id}, deleted at ${c.branch.recovery.deleted_at}, ` +
        `recoverable until ${c.branch.recovery.recoverable_until})`);
    return new Error(`no deleted branch ${what} can be recovered in project ${run.project}. The recoverable branches with ` +
        `the closest names (${Math.min(all.length, CLOSEST_LISTED)} of ${all.length}): ${closest.join(', ')}. ` +
        `Nothing was changed.`);
}
/** Levenshtein distance, case-insensitive, over code points. */
function distance(a, b) {
    const x = [...a.toLowerCase()];
    const y = [...b.toLowerCase()];
    let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const cur = [i];
        for (let j = 1; j <= y.length; j++) {
            cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        }
        prev = cur;
    }
    return prev[y.length];
}

;// CONCATENATED MODULE: ./src/modes/create.ts





















/**
 * create: make the pull request's branch, or adopt it when it exists (a re-run, the next push, a
 * concurrent run), then make sure it is ready to connect to: a usable read_write endpoint, the
 * role and the database, all of Neon's operations finished, and the connection strings built.
 *
 * With `ephemeral` the branch belongs to this job alone: an existing one is an error (never
 * adopted), and what is created is recorded for the post step, which deletes it.
 *
 * It looks the name up first, unless the branch is almost surely new (createsFirst): then it
 * creates at once and lets Neon's 409 say that the branch exists, and adopts it as it would have.
 *
 * The look-up asks for the deleted branches of the name too (the same request): on a pull request
 * `reopened` only (recoversOnThisEvent), when no live branch has the name, the most recently deleted
 * one tied to this repository and pull request is recovered (its data, host and password as they
 * were), checked as a found branch is, and made ready as an adopted branch is. On any other event a
 * new branch is made, and a notice names the recoverable one and `mode: recover`. Where Neon lists
 * nothing to recover, or refuses the recovery with a 4xx, a new branch is created as before.
 */
async function createMode(deps, inputs) {
    const name = resolveBranchName(inputs, deps.context);
    const run = new ModeRun(deps, inputs);
    // The project's branch limit: on_branch_limit decides what a 422 for it does.
    const limits = new BranchLimit(run);
    const first = createsFirst(inputs, deps.context, name);
    try {
        const looked = first ? undefined : await lookUp(run, name);
        const found = looked?.live;
        if (found && inputs.ephemeral)
            throw ephemeralCollision(run, name, found.branch);
        const recoverable = found || !looked ? undefined : recoverableOf(run, name, looked);
        if (inputs.dryRun)
            return await dryRun(run, name, found, limits, recoverable);
        const outcome = found
            ? { existing: found }
            : ((recoverable && (await tryRecovery(run, recoverable))) ??
                (await createOrFind(run, name, limits, first)));
        const { parent } = outcome;
        const made = 'made' in outcome ? outcome.made : undefined;
        const recovered = 'recovered' in outcome ? outcome.recovered : undefined;
        const existing = existingOf(outcome);
        const branch = made
            ? made.branch
            : recovered
                ? await afterRecovery(run, recovered)
                : await adopt(run, existing, parent);
        const created = made !== undefined;
        // An anonymized branch is handed out only once Neon has masked it: the result (and so every
        // output, the comment and the summary) is made after that. Connection details are gathered
        // meanwhile; they only go out with the result.
        let prepared;
        let expiresAt;
        let anonymization;
        if (made) {
            prepared = await prepareConnection(run, branch, made.known);
            expiresAt = branch.expires_at ?? null;
            if (inputs.masking)
                anonymization = await awaitNewBranchMasking(run, branch, inputs.masking.rules.length);
        }
        else {
            // A recovered branch is checked as a found one is (afterRecovery), and never handed out unmasked.
            const finish = await (recovered ? recoveredMasking : adoptMasking)(run, existing, inputs.masking);
            [anonymization, [prepared, expiresAt]] = await settleMasking(run, branch, () => allFinished([finish(), prepareWithExpiry(run, branch, recovered?.known)]));
        }
        return {
            mode: 'create',
            branch: {
                id: branch.id,
                name: branch.name,
                parentId: branch.parent_id,
                ...(created && parent ? { parentName: parent.name } : {}),
                ...pointInfo(branch, inputs.parentPoint),
                expiresAt,
                ...schemaOnly(branch),
            },
            created,
            recovered: recovered !== undefined,
            ...(recovered ? { recovery: recovered.recovery } : {}),
            connection: prepared.connection,
            ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
            ...(anonymization ? { anonymization } : {}),
            ...servicesOf(prepared),
            ...usageField(prepared.branch),
            ...limits.result(),
            changes: run.changes,
            timings: run.timings(prepared.readyMs),
        };
    }
    catch (e) {
        throw run.fail(`create of branch '${name}'`, e);
    }
}
/** The branch to adopt: the one found, or a recovered one, which is from here on an existing one. */
function existingOf(outcome) {
    if ('existing' in outcome)
        return outcome.existing;
    const recovered = 'recovered' in outcome ? outcome.recovered : undefined;
    return recovered
        ? { branch: recovered.branch, ...(recovered.annotation ? { annotation: recovered.annotation } : {}) }
        : undefined;
}
/**
 * Whether create skips the look-up and sends the create at once, a 409 (or, at the branch limit,
 * a look-up after the 422) then saying the branch exists. Only where the branch is almost surely
 * new, because there the look-up is a round trip spent before Neon starts its work for nothing:
 * - `ephemeral`: its default name holds the run id, the attempt and the job, so an existing one
 *   is a collision, an error either way;
 * - a pull request `opened`: GitHub never reuses a pull request number within a repository and
 *   sends `opened` once per pull request, so no branch tied to it can exist yet, live or deleted.
 * Not `reopened`: closing deleted the branch, and the look-up (with the deleted branches) is what
 * finds it to recover; a create first would make a new, empty branch instead. Every other event
 * (synchronize above all: every push after the first) finds the branch existing, and there the
 * look-up is what makes adoption cheap; a create first would cost a 409 more. A dry run never
 * creates, so it looks up; a `br-…` id is looked up by id (created, it would be a name).
 *
 * So on `opened` nothing is ever recovered, not even after a 409 whose look-up then finds no live
 * branch: the 409 said a live branch existed a moment before, so it was deleted in between, most
 * likely by this pull request's own close running at the same time, and bringing it back would
 * undo that delete. That case fails as it always has ("… answered 409 … but no such branch").
 */
function createsFirst(inputs, context, name) {
    if (inputs.dryRun || isBranchId(name))
        return false;
    if (inputs.ephemeral)
        return true;
    return isPullRequestEvent(context.eventName) && context.action === 'opened';
}
/**
 * The look-up: the live branch of the name and, in the same listing, its recoverable deleted ones.
 * An ephemeral branch is the job's own and new, never recovered: it asks for live branches only.
 */
async function lookUp(run, name) {
    const { neon } = run.deps;
    if (run.inputs.ephemeral) {
        const live = await findBranch(neon, run.project, name);
        return { ...(live ? { live } : {}), deleted: [] };
    }
    return findBranchWithDeleted(neon, run.project, name);
}
/**
 * The deleted branch create would recover: the most recently deleted of the name that is tied to
 * this repository and pull request (tiedToThisRun); never someone else's of the same name. Says,
 * once, why nothing is recovered where the branch was to be expected (a pull request past
 * `opened`), and which deleted branches of the name are not this pull request's.
 */
function recoverableOf(run, name, looked) {
    const { context, log } = run.deps;
    const tied = looked.deleted.filter((d) => tiedToThisRun(d.annotation, context));
    // Masking rules ask for masked data: a deleted plain branch holds an unmasked copy of its parent,
    // and adopting it would be refused after the recovery; it is left deleted, and a new anonymized
    // branch is made.
    const ours = run.inputs.masking ? tied.filter((d) => looksAnonymized(d)) : tied;
    for (const d of tied.filter((x) => !ours.includes(x)))
        log.info(`Not recovering deleted branch '${escapeControl(d.branch.name)}' (${d.branch.id}): it is not anonymized, ` +
            `and ${run.inputs.masking?.source ?? 'the masking rules'} ask for masked data`);
    const others = looked.deleted.filter((d) => !tied.includes(d));
    if (others.length > 0) {
        log.info(`Not recovering ${others.length} deleted branch(es) named '${escapeControl(name)}' that are not this ` +
            `${context.pullRequest ? 'pull request' : 'repository'}'s: ${others.map((d) => whyNotOurs(d, context)).join('; ')}`);
    }
    const target = ours[0];
    if (target && recoversOnThisEvent(context))
        return target;
    if (target) {
        // A push (or any event but a reopen) never revives a deleted branch: it may have been deleted to
        // revoke a leaked password, or for a fresh copy. Said once, with the explicit way back.
        log.notice(`Branch '${escapeControl(name)}' was deleted (${target.branch.id}, at ${target.branch.recovery.deleted_at}; ` +
            `recoverable until ${target.branch.recovery.recoverable_until}) and is not brought back on ` +
            `${escapeControl(context.eventName)}${context.action ? ` ${escapeControl(context.action)}` : ''}: ` +
            `creating a new branch. To get the deleted one back instead, delete the new one and run the ` +
            `action with mode: recover and branch_name: ${target.branch.id} (reopening the pull request also ` +
            `recovers it).`);
        return undefined;
    }
    if (looked.deletedRefused !== undefined)
        log.debug(`Neon refused to list deleted branches, so none can be recovered: ${looked.deletedRefused}`);
    // On a pull request past `opened` the branch was expected: say why a new one is made. Elsewhere
    // (a workflow_dispatch naming a new branch) a missing branch is the normal case.
    if (isPullRequestEvent(context.eventName) && context.action !== 'opened') {
        log.notice(`Branch '${escapeControl(name)}' is not there, and Neon lists no deleted branch of this pull request to recover` +
            `${others.length > 0 ? ` (${others.length} deleted branch(es) of that name belong to others)` : ''}: ` +
            `it was never made, was deleted more than 7 days ago, or the account is not offered branch recovery ` +
            `(a Neon preview). Creating a new branch.`);
    }
    return undefined;
}
/**
 * Recovers `target`; where Neon refuses with a 4xx (recovery not offered, the branch gone for good,
 * its name taken again by a concurrent run) says so once and returns undefined, and create makes a
 * new branch as before (whose 409 then adopts what a concurrent run made). Any other failure (a
 * 5xx after the retries, a 423 that outlived them, no answer) fails the run.
 */
async function tryRecovery(run, target) {
    try {
        return { recovered: await recoverDeleted(run, target) };
    }
    catch (e) {
        if (!refusedRecovery(e))
            throw e;
        run.deps.log.notice(`Neon refused to recover branch '${escapeControl(target.branch.name)}' (${target.branch.id}), deleted at ` +
            `${target.branch.recovery.deleted_at}: ${e.message}. Creating a new branch instead (or adopting one ` +
            `of that name that another run has just made).`);
        return undefined;
    }
}
/**
 * A recovered branch, as an adopted one: checked as a found one is (never the default, a protected
 * or another repository's branch: checkRecovered), and the warnings about parent_branch's point
 * still apply.
 */
async function afterRecovery(run, recovered) {
    const { branch } = checkRecovered(run, recovered);
    await warnIfOtherPoint(run, branch);
    return branch;
}
/** The name exists, found after a create that skipped its look-up met the branch limit. */
class NameTakenAtLimit extends Error {
    found;
    refusal;
    constructor(found, refusal) {
        super(refusal.message);
        this.found = found;
        this.refusal = refusal;
    }
}
/**
 * Resolves the parent, checks its history window, creates the branch and waits for its
 * operations. When the answer is that the name exists (409, or at the limit a 422 and a look-up
 * that finds it), returns the existing branch for adoption. A create sent without a look-up
 * (`first`) that is refused for any other reason (a parent that no longer exists, a point that
 * has left the history window, a 4xx from Neon) looks the name up too: an existing branch is then
 * adopted, as the look-up would have adopted it before any of those checks; otherwise the refusal
 * stands. So the parent is resolved and checked before the create, whichever comes first.
 */
async function createOrFind(run, name, limits, first) {
    const { deps, inputs } = run;
    const { neon, log } = deps;
    const key = inputs.ephemeral ? (0,external_node_crypto_namespaceObject.randomUUID)() : undefined;
    let parent;
    let recorded = false;
    let created = false;
    try {
        parent = await resolveParent(run);
        if (parent)
            await checkHistoryWindow(run, parent, inputs.parentPoint, parentText(inputs));
        if (key !== undefined) {
            deps.ephemeral?.creating(name, key);
            recorded = true;
        }
        const body = createRequest(run, name, parent?.id, key);
        const masking = inputs.masking;
        const res = await limits.create(() => masking
            ? neon.createAnonymizedBranch(run.project, anonymizedCreateRequest(body, masking.rules))
            : neon.createBranch(run.project, body), 
        // No look-up was made, and at its limit Neon may answer an existing name with 422 rather
        // than 409 (which it checks first is undocumented): look the name up before anything else,
        // and adopt what exists rather than make room or fail.
        first ? (refusal) => lookUpAtLimit(run, name, refusal) : undefined);
        created = true;
        const branch = res.branch;
        deps.ephemeral?.created({ id: branch.id, name: branch.name }, res.operations.map((o) => o.id));
        const kind = masking ? 'anonymized branch' : 'branch';
        run.changed(`created ${kind} '${branch.name}' (${branch.id})`);
        log.info(`Created ${kind} '${branch.name}' (${branch.id}); waiting for ${res.operations.length} operations`);
        await run.waitOps(res.operations);
        // Nothing of the create is running any more: the post step need not poll for it.
        deps.ephemeral?.created({ id: branch.id, name: branch.name }, []);
        return { parent, made: madeFromCreate(res, inputs.role) };
    }
    catch (e) {
        if (created)
            throw e;
        const refusal = e instanceof NameTakenAtLimit ? e.refusal : e;
        const existing = await findAfterRefusal(run, name, e, first);
        // A 409 on a retried create can mean that our first attempt made it (BEHAVIOUR.md, 5xx): an
        // ephemeral branch carrying this run's key is this job's own, not a collision.
        const ours = key !== undefined && existing?.annotation?.value['github-ephemeral-key'] === key;
        if (recorded && !ours && refusedOutright(refusal))
            deps.ephemeral?.nothing();
        if (!existing) {
            if (isConflict(e))
                throw withContext(`Neon answered 409 for '${name}' but no such branch can be found`, e);
            throw e;
        }
        if (ours) {
            const branch = existing.branch;
            deps.ephemeral?.created({ id: branch.id, name: branch.name }, []);
            run.changed(`created branch '${branch.name}' (${branch.id})`);
            log.info(`Created branch '${branch.name}' (${branch.id}) by a create whose answer was lost`);
            return { parent, made: { branch, known: {} } };
        }
        if (inputs.ephemeral)
            throw ephemeralCollision(run, name, existing.branch);
        log.info(!first
            ? `Branch '${name}' was created concurrently by another run; adopting it`
            : isConflict(refusal) || isBranchLimit(refusal)
                ? `Branch '${name}' already exists (Neon answered the create with ${refusal.status}); adopting it`
                : `Branch '${name}' already exists; adopting it as it is (a new one could not be made: ${errorText(refusal)})`);
        return { parent, existing };
    }
}
/** The branch of that name after the create was refused, when the refusal says to look (or found it). */
async function findAfterRefusal(run, name, e, first) {
    const { neon } = run.deps;
    if (e instanceof NameTakenAtLimit)
        return e.found;
    // A 409: another run (or our own first attempt, whose answer was lost) created it.
    if (isConflict(e))
        return findBranch(neon, run.project, name);
    // Only to learn whether to adopt: when the look-up fails too, the refusal is the answer.
    if (first && refusedBeforeNeon(e))
        return findBranch(neon, run.project, name).catch(() => undefined);
    return undefined;
}
/**
 * A refusal of the create itself, before Neon did anything: ours (a parent that does not exist, a
 * point out of the history window) or Neon's 4xx to the POST. Not a failure of a look-up (a GET),
 * nor a network error or 5xx (after which the create may have been made), nor a 401/403, which a
 * look-up would only repeat.
 */
function refusedBeforeNeon(e) {
    if (e instanceof NeonApiError)
        return e.method === 'POST' && refusedOutright(e) && e.status !== 401 && e.status !== 403;
    return e instanceof InputError || e instanceof MissingParentError;
}
function errorText(e) {
    return e instanceof Error ? e.message.replace(/\.$/, '') : String(e);
}
/** On a branch-limit refusal of a create made without a look-up: the name, when it exists, is adopted. */
async function lookUpAtLimit(run, name, refusal) {
    let found;
    try {
        found = await findBranch(run.deps.neon, run.project, name);
    }
    catch (e) {
        throw withContext(`Neon refused the branch for the project's branch limit (${refusal.message}); then, looking up '${name}'`, e);
    }
    if (found)
        throw new NameTakenAtLimit(found, refusal);
}
/**
 * Takes an existing branch as the preview branch: never the default or a protected one, and never
 * one annotated for another repository. Every way to an existing branch (the look-up, a 409, a
 * refusal at the branch limit) comes through here, before anything is changed on it.
 */
async function adopt(run, found, parent) {
    const { branch } = found;
    refuseUnsafeTarget(branch, 'use it as a preview branch');
    refuseForeign(run, found);
    run.deps.log.info(`Adopting existing branch '${branch.name}' (${branch.id})`);
    await warnIfOtherPoint(run, branch, parent);
    return branch;
}
/**
 * Adopting would let two jobs share one database and the first to finish delete it under the
 * other; the message shows the naming that keeps jobs apart. Raised before any change.
 */
function ephemeralCollision(run, name, existing) {
    const which = existing ? `'${name}' (${existing.id})` : `'${name}'`;
    return new Error(`branch ${which} already exists in project ${run.project}, and with 'ephemeral: true' a branch is ` +
        `never adopted: two jobs would share one database, and the first to finish would delete it under ` +
        `the other. Give every job its own branch_name, e.g. ` +
        'branch_name: ci/run-${{ github.run_id }}-${{ github.run_attempt }}-${{ matrix.shard }} ' +
        '(the default, ci/run-<run id>-<attempt>-<job>, is the same for every leg of a matrix). ' +
        'Nothing was changed.');
}
/**
 * True when Neon answered the create with a refusal (a 4xx other than a timeout): then no branch
 * was made. A network error or a 5xx may have created it, so the post step still looks.
 */
function refusedOutright(e) {
    return e instanceof NeonApiError && e.status >= 400 && e.status < 500 && e.status !== 408;
}
/** The body of POST /branches for this run (also what reset re-creates an anonymized branch with). */
function createRequest(run, name, parentId, ephemeralKey) {
    const { inputs } = run;
    const expiresAt = expiryTimestamp(inputs.expiry, new Date(run.deps.clock.now()));
    return {
        branch: {
            name,
            ...(parentId ? { parent_id: parentId } : {}),
            ...(inputs.parentPoint?.lsn !== undefined ? { parent_lsn: inputs.parentPoint.lsn } : {}),
            ...(inputs.parentPoint?.timestamp !== undefined
                ? { parent_timestamp: inputs.parentPoint.timestamp }
                : {}),
            ...(inputs.branchType === 'schema-only' ? { init_source: 'schema-only' } : {}),
            ...(expiresAt ? { expires_at: expiresAt } : {}),
        },
        endpoints: [
            {
                type: 'read_write',
                ...(inputs.suspendTimeout !== 0 ? { suspend_timeout_seconds: inputs.suspendTimeout } : {}),
                ...computeRequest(inputs.computeUnits),
            },
        ],
        annotation_value: annotationsFor(run.deps, ephemeralKey),
    };
}
/** Says what create would do, after the same checks, and changes nothing. */
async function dryRun(run, name, found, limits, recoverable) {
    const existing = found?.branch;
    let line;
    let room = [];
    if (found && existing) {
        refuseUnsafeTarget(existing, 'use it as a preview branch');
        refuseForeign(run, found);
        line = `would adopt branch '${existing.name}' (${existing.id}) and make sure its compute, role and database exist`;
        if (run.inputs.masking)
            line += `; ${await dryRunMasking(run, existing, run.inputs.masking)}`;
    }
    else if (recoverable) {
        const b = recoverable.branch;
        line =
            `would recover branch '${b.name}' (${b.id}), deleted at ${b.recovery.deleted_at}, and make sure ` +
                `its compute, role and database exist (or, should Neon refuse the recovery, create a new one)`;
    }
    else {
        const parent = await resolveParent(run);
        if (parent)
            await checkHistoryWindow(run, parent, run.inputs.parentPoint, parentText(run.inputs));
        const expiresAt = expiryTimestamp(run.inputs.expiry, new Date(run.deps.clock.now()));
        const from = parent
            ? describePoint(`'${parent.name}' (${parent.id})`, run.inputs.parentPoint ?? {})
            : 'the default branch';
        const masking = run.inputs.masking;
        line =
            `would create ${masking ? 'an anonymized branch' : 'branch'} '${name}' from ${from}` +
                (masking
                    ? ` with ${countRules(masking.rules.length)} (${masking.source}), and wait for Neon to mask it`
                    : '') +
                (expiresAt ? `, expiring at ${expiresAt}` : ', never expiring');
        room = await limits.plan();
    }
    line += passwordResetText(run.inputs);
    run.deps.log.notice(`Dry run: ${[...room, line].join('; ')}. Nothing was changed.`);
    for (const l of room)
        run.changed(l);
    run.changed(line);
    return {
        mode: 'create',
        branch: {
            id: existing?.id ?? recoverable?.branch.id ?? '',
            name,
            parentId: existing?.parent_id ?? recoverable?.branch.parent_id,
            expiresAt: existing?.expires_at ?? null,
            ...(existing ? schemaOnly(existing) : {}),
        },
        ...(existing ? usageField(existing) : {}),
        created: false,
        recovered: false,
        ...limits.result(),
        changes: run.changes,
        timings: run.timings(),
    };
}
/** Two repositories sharing one Neon project would otherwise share a branch (ownership.ts). */
function refuseForeign(run, found) {
    const o = ownership(found.annotation, run.deps.context);
    if (o.kind === 'foreign')
        throw foreignBranchError(found.branch, o, run.deps.context, run.project);
}
/**
 * An adopted branch keeps the data it was made with. When `parent_branch` asks for a point in time
 * and the branch starts elsewhere, say so: its data is not what the input asks for.
 */
async function warnIfOtherPoint(run, branch, resolved) {
    const point = run.inputs.parentPoint;
    if (!point)
        return;
    const parent = resolved ?? (await resolveParent(run));
    const differences = [];
    if (parent && branch.parent_id !== parent.id) {
        differences.push(`its parent is ${branch.parent_id ?? 'none'}, not '${parent.name}' (${parent.id})`);
    }
    if (point.lsn !== undefined && !(branch.parent_lsn && sameLsn(branch.parent_lsn, point.lsn))) {
        differences.push(`it starts at LSN ${branch.parent_lsn ?? '(not reported)'}, not ${point.lsn}`);
    }
    // Compared to the second: Neon may report the time without the milliseconds asked.
    const seconds = (ms) => Math.floor(ms / 1000);
    if (point.timestampMs !== undefined &&
        seconds(Date.parse(branch.parent_timestamp ?? '')) !== seconds(point.timestampMs)) {
        differences.push(`it starts at ${branch.parent_timestamp ?? '(not reported)'}, not ${point.timestamp}`);
    }
    if (differences.length === 0)
        return;
    run.deps.log.warning(`The existing branch '${branch.name}' (${branch.id}) was not made from ${parentText(run.inputs)}: ` +
        `${differences.join('; ')}. Adopting it as it is, so its data is not what parent_branch asks for. ` +
        `For a branch from that point, delete it (mode: delete) and run create again, or run mode: reset ` +
        `with the same parent_branch.`);
}
/** The parent named by `parent_branch`, or undefined to let Neon use the project's default branch. */
async function resolveParent(run) {
    const ref = run.inputs.parentBranch;
    if (!ref)
        return undefined;
    const found = await findBranch(run.deps.neon, run.project, ref);
    if (!found) {
        throw new MissingParentError(`parent_branch '${ref}' does not exist in project ${run.project} ` +
            `(looked up by ${ref.startsWith('br-') ? 'id and name' : 'exact name'})`);
    }
    return found.branch;
}
class MissingParentError extends Error {
}
/**
 * Ties the branch to its pull request; `github-commit-repo` is what Neon's own actions write. An
 * ephemeral branch is tied to its run and job instead (cleanup asks GitHub whether that run has
 * completed), and not to the pull request, whose preview it is not.
 */
function annotationsFor(deps, ephemeralKey) {
    const ctx = deps.context;
    const a = {};
    if (ctx.repository) {
        a['github-repo'] = ctx.repository;
        a['github-commit-repo'] = ctx.repository;
    }
    // Survives a rename or a transfer of the repository (ownership.ts).
    if (ctx.repositoryId)
        a['github-repo-id'] = ctx.repositoryId;
    if (ephemeralKey !== undefined) {
        a['github-ephemeral'] = 'true';
        a['github-ephemeral-key'] = ephemeralKey;
        if (ctx.runId)
            a['github-run-id'] = ctx.runId;
        if (ctx.runAttempt)
            a['github-run-attempt'] = ctx.runAttempt;
        if (ctx.job)
            a['github-job'] = ctx.job;
        const sha = ctx.pullRequest?.headSha || ctx.sha;
        if (sha)
            a['github-sha'] = sha;
        return a;
    }
    if (ctx.pullRequest) {
        a['github-pr-number'] = String(ctx.pullRequest.number);
        a['github-head-ref'] = ctx.pullRequest.headRef;
        if (ctx.pullRequest.headSha)
            a['github-sha'] = ctx.pullRequest.headSha;
    }
    else if (ctx.sha) {
        a['github-sha'] = ctx.sha;
    }
    return a;
}

;// CONCATENATED MODULE: ./src/modes/delete.ts








/**
 * delete: remove the pull request's branch when the PR closes. A branch that is already gone (a
 * re-run, Neon's own expiry, another run) is success with `deleted=false`; the default branch, a
 * protected branch and a branch with children are refused before anything is changed. A deleted
 * branch is reported with until when it can be recovered (undo.ts).
 */
async function deleteMode(deps, inputs) {
    const name = resolveBranchName(inputs, deps.context);
    const run = new ModeRun(deps, inputs);
    const { neon, log } = deps;
    const gone = (why) => {
        log.notice(`Branch '${name}' ${why}; nothing to delete.`);
        return {
            mode: 'delete',
            branch: { id: '', name, expiresAt: null },
            deleted: false,
            changes: [],
            timings: run.timings(),
        };
    };
    try {
        const index = await BranchIndex.load(neon, run.project);
        const found = index.find(name);
        if (!found)
            return gone(`does not exist in project ${run.project} (already deleted, expired, or never created)`);
        const branch = found.branch;
        refuseUnsafeTarget(branch, 'delete it');
        const owner = ownership(found.annotation, deps.context);
        if (owner.kind === 'foreign') {
            // Not ours to delete, and not a failure of this repository's workflow: its own delete goes on.
            log.warning(`Branch '${branch.name}' (${branch.id}) is annotated for repository ${owner.repo} (${owner.key}), ` +
                `not ${deps.context.repository}: it is that repository's branch, and it was left alone ` +
                `(deleted=false). If this repository has a branch of its own under another name, set ` +
                `branch_name to it.`);
            return {
                mode: 'delete',
                // Its id is not shown (nor linked) in this repository's comment: it is not this one's branch.
                branch: { id: '', name, expiresAt: null },
                deleted: false,
                notDeleted: `it is annotated for repository ${owner.repo}, not this one`,
                changes: [],
                timings: run.timings(),
            };
        }
        refuseRestricted(branch, 'delete');
        const children = index.children(branch.id);
        if (children.length > 0) {
            throw new Error(`'${escapeControl(branch.name)}' (${branch.id}) has child branches: ${children.map((c) => `'${escapeControl(c.name)}' (${c.id})`).join(', ')}. ` +
                `Neon cannot delete a branch with children; delete them first. Nothing was deleted.`);
        }
        const result = (deleted, recoverable) => ({
            mode: 'delete',
            branch: { id: branch.id, name: branch.name, parentId: branch.parent_id, expiresAt: null },
            deleted,
            // What the preview used: the figures of the listing read just before the delete.
            ...usageField(branch),
            ...(recoverable ? { recoverable } : {}),
            changes: run.changes,
            timings: run.timings(),
        });
        if (inputs.dryRun) {
            log.notice(`Dry run: would delete branch '${branch.name}' (${branch.id}). Nothing was changed.`);
            run.changed(`would delete branch '${branch.name}' (${branch.id})`);
            return result(false);
        }
        const res = await neon.deleteBranch(run.project, branch.id);
        if (res === null)
            return gone('was deleted by someone else a moment ago');
        run.changed(`deleted branch '${branch.name}' (${branch.id})`);
        log.info(`Deleting '${branch.name}'; waiting for ${res.operations.length} operations`);
        await run.waitOps(res.operations);
        // How to undo it: until when Neon keeps it (one listing with include_deleted).
        return result(true, await reportRecoverable(deps, run.project, [branch]));
    }
    catch (e) {
        throw run.fail(`delete of branch '${name}'`, e);
    }
}

;// CONCATENATED MODULE: ./src/modes/reset.ts
















/**
 * reset: bring the pull request's branch back to its parent's current state (or `parent_branch`'s,
 * at the point in time it names; `^self@…` is the branch's own past) with Neon's restore, which
 * keeps the branch id, the compute's host and the role passwords, so the outputs are the same as
 * create's and the URLs in use keep working.
 */
async function resetMode(deps, inputs) {
    const name = resolveBranchName(inputs, deps.context);
    const run = new ModeRun(deps, inputs);
    const { neon, log } = deps;
    try {
        const index = await BranchIndex.load(neon, run.project);
        const found = index.find(name);
        if (!found) {
            throw new Error(`branch '${name}' does not exist in project ${run.project}; reset needs an existing branch ` +
                `(run mode 'create' first)`);
        }
        const branch = found.branch;
        refuseUnsafeTarget(branch, 'reset it');
        // Before anything else that could change it (an anonymized branch is re-created below).
        const owner = ownership(found.annotation, deps.context);
        if (owner.kind === 'foreign')
            throw foreignBranchError(branch, owner, deps.context, run.project);
        // Neon cannot reset an anonymized branch: it is re-created instead. Whether it is one is asked
        // only when something suggests it (or rules are given): a plain reset costs no extra request.
        const status = inputs.masking || looksAnonymized(found) ? await readAnonymizedStatus(run, branch) : null;
        if (status)
            return await resetAnonymized(run, index, branch, status.state === 'anonymized');
        if (inputs.masking)
            throw maskingOnPlainBranch(branch, inputs.masking.source);
        // Anything else Neon restricts is refused with its reason, before any request.
        refuseRestricted(branch, 'reset');
        const source = resolveSource(run, index, branch);
        const self = source.id === branch.id;
        const preserve = inputs.preserveUnderName;
        refuseUnresettable(inputs, index, branch, self);
        await checkHistoryWindow(run, source, inputs.parentPoint, parentText(inputs));
        const to = describePoint(self ? 'its own state' : `'${source.name}' (${source.id})`, inputs.parentPoint ?? {});
        const line = `reset '${branch.name}' (${branch.id}) to ${to}` +
            (preserve ? `, keeping its previous state as '${preserve}'` : '') +
            passwordResetText(inputs);
        if (inputs.dryRun) {
            log.notice(`Dry run: would ${line}. Nothing was changed.`);
            run.changed(`would ${line}`);
            return {
                mode: 'reset',
                branch: reset_info(run, branch, source, branch.expires_at ?? null),
                ...usageField(branch),
                changes: run.changes,
                timings: run.timings(),
            };
        }
        const request = restoreRequest(source.id, inputs.parentPoint, preserve);
        const res = await neon.restoreBranch(run.project, branch.id, request);
        run.changed(line);
        log.info(`Resetting '${branch.name}' to ${to}; waiting for ${res.operations.length} operations`);
        await run.waitOps(res.operations);
        // Restore restarts the compute and re-seeds roles from the source: check both again.
        const [prepared, expiresAt] = await prepareWithExpiry(run, { ...res.branch, current_state: 'ready' });
        return {
            mode: 'reset',
            branch: reset_info(run, res.branch, source, expiresAt),
            created: false,
            connection: prepared.connection,
            ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
            ...servicesOf(prepared),
            ...usageField(prepared.branch),
            changes: run.changes,
            timings: run.timings(prepared.readyMs),
        };
    }
    catch (e) {
        throw run.fail(`reset of branch '${name}'`, e);
    }
}
/** Rules given for a branch that is not anonymized: a reset would hand out its parent's data unmasked. */
function maskingOnPlainBranch(branch, source) {
    return new Error(`branch '${branch.name}' (${branch.id}) is not an anonymized branch, and ${source} asks ` +
        `for masked data: a reset would give it its parent's data, unmasked. Nothing was changed. Delete it ` +
        `(mode: delete) and run create for an anonymized branch, or drop the rules.`);
}
/**
 * What makes the branch impossible to reset as asked, refused before any change: no parent (and
 * not its own past), its own past or children without `preserve_under_name`, a name to preserve
 * under that is taken.
 */
function refuseUnresettable(inputs, index, branch, self) {
    // A root branch has no parent to reset to, but it has a past of its own.
    if (!branch.parent_id && !self) {
        const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch';
        throw new Error(`'${escapeControl(branch.name)}' (${branch.id}) is ${kind} with no parent; it cannot be reset`);
    }
    const children = index.children(branch.id);
    const preserve = inputs.preserveUnderName;
    if (self && !preserve) {
        // Reached when parent_branch names the branch itself (^self is refused earlier, by getInputs).
        throw new InputError(INPUTS.preserveUnderName, `Input '${INPUTS.preserveUnderName}' is required: parent_branch '${parentText(inputs)}' is the ` +
            `branch itself, and a branch restored to its own past keeps its current state as a branch of ` +
            `that name (Neon requires it).`);
    }
    if (children.length > 0 && !preserve) {
        throw new Error(`'${escapeControl(branch.name)}' has child branches (${children.map((c) => `'${escapeControl(c.name)}'`).join(', ')}); ` +
            `set 'preserve_under_name' to keep its current state under that name (Neon moves the children there)`);
    }
    if (preserve && index.find(preserve)) {
        throw new Error(`preserve_under_name '${preserve}' is already the name of a branch; choose another`);
    }
}
/** Neon's restore request: from `sourceId` at the point given, keeping the old state when asked. */
function restoreRequest(sourceId, point, preserve) {
    return {
        source_branch_id: sourceId,
        ...(point?.lsn !== undefined ? { source_lsn: point.lsn } : {}),
        ...(point?.timestamp !== undefined ? { source_timestamp: point.timestamp } : {}),
        ...(preserve ? { preserve_under_name: preserve } : {}),
    };
}
/**
 * `parent_branch` when given (it must exist; `^self` is the branch, `^parent` its parent), else the
 * branch's own parent. The branch itself is a source only at a point in its past.
 */
function resolveSource(run, index, branch) {
    const ref = run.inputs.parentBranch;
    if (ref === SELF)
        return branch;
    if (ref && ref !== PARENT) {
        const found = index.find(ref);
        if (!found)
            throw new Error(`parent_branch '${ref}' does not exist in project ${run.project}`);
        if (found.branch.id === branch.id && !run.inputs.parentPoint) {
            throw new Error(`parent_branch '${ref}' is the branch itself; to restore it to its own past, give a point, ` +
                `e.g. ^self@2026-11-30T09:00:00Z`);
        }
        return found.branch;
    }
    if (!branch.parent_id) {
        const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch';
        throw new Error(`'${escapeControl(branch.name)}' (${branch.id}) is ${kind} with no parent; it cannot be reset`);
    }
    const parent = index.get(branch.parent_id);
    if (!parent)
        throw new Error(`the parent ${branch.parent_id} of '${escapeControl(branch.name)}' no longer exists`);
    return parent;
}
/**
 * reset of an anonymized branch: re-created from its parent (or `parent_branch`) with the
 * workflow's rules, or its own when the workflow gives none, and masked afresh; with
 * `preserve_under_name` the old branch is renamed instead of deleted. Nothing is handed out before
 * Neon says `anonymized`, as for create.
 */
async function resetAnonymized(run, index, branch, masked) {
    const { inputs, deps } = run;
    const reason = restrictionOf(branch, 'reset')?.reason;
    if (inputs.parentBranch === SELF) {
        throw new Error(`'${branch.name}' (${branch.id}) is an anonymized branch, which Neon cannot restore, to its own past or ` +
            `otherwise; reset re-creates it from a parent instead (parent_branch: ^parent, or a branch name)`);
    }
    // Re-creating deletes it (or, with preserve_under_name, renames it): what Neon forbids is refused first.
    if (!inputs.preserveUnderName)
        refuseRestricted(branch, 'delete');
    const source = resolveSource(run, index, branch);
    const children = index.children(branch.id);
    if (children.length > 0) {
        throw new Error(`'${branch.name}' (${branch.id}) is an anonymized branch, which reset re-creates (Neon cannot reset it), ` +
            `but it has child branches (${children.map((c) => `'${c.name}'`).join(', ')}), so it cannot be deleted. ` +
            `Nothing was changed.`);
    }
    const preserve = inputs.preserveUnderName;
    if (preserve && index.find(preserve)) {
        throw new Error(`preserve_under_name '${preserve}' is already the name of a branch; choose another`);
    }
    await checkHistoryWindow(run, source, inputs.parentPoint, parentText(inputs));
    const { rules, source: rulesFrom } = await rulesForRecreation(run, { branch, masking: inputs.masking });
    const to = describePoint(`'${source.name}' (${source.id})`, inputs.parentPoint ?? {});
    const line = `re-create anonymized branch '${branch.name}' (${branch.id}) from ${to} with ${countRules(rules.length)} ` +
        `(${rulesFrom})${preserve ? `, keeping the old one as '${preserve}'` : ''}: Neon cannot reset an anonymized ` +
        `branch, so its id, host and password change${passwordResetText(inputs)}`;
    if (inputs.dryRun) {
        deps.log.notice(`Dry run: would ${line}. Nothing was changed.`);
        run.changed(`would ${line}`);
        return {
            mode: 'reset',
            branch: reset_info(run, branch, source, branch.expires_at ?? null),
            changes: run.changes,
            timings: run.timings(),
        };
    }
    const { res } = await recreateAnonymized(run, {
        branch,
        source,
        body: createRequest(run, branch.name, source.id),
        masking: inputs.masking,
        reason,
        masked,
        ...(preserve ? { preserveAs: preserve } : {}),
    }, rules);
    const made = madeFromCreate(res, inputs.role);
    const prepared = await prepareConnection(run, made.branch, made.known);
    const anonymization = await awaitNewBranchMasking(run, made.branch, rules.length);
    deps.log.notice(`Branch '${made.branch.name}' was re-created as ${made.branch.id} (it was ${branch.id}): its host and ` +
        `password changed too, so update anything that kept the old connection string.`);
    return {
        mode: 'reset',
        branch: reset_info(run, made.branch, source, made.branch.expires_at ?? null),
        created: true,
        recreated: { previousId: branch.id },
        connection: prepared.connection,
        ...(prepared.computeUnits ? { computeUnits: prepared.computeUnits } : {}),
        ...servicesOf(prepared),
        ...usageField(prepared.branch),
        anonymization,
        changes: run.changes,
        timings: run.timings(prepared.readyMs),
    };
}
function reset_info(run, branch, source, expiresAt) {
    return {
        id: branch.id,
        name: branch.name,
        parentId: source.id,
        parentName: source.id === branch.id ? `${source.name} (its own past)` : source.name,
        // The point asked; Neon's parent_lsn / parent_timestamp describe the branch's new parent.
        ...pointInfo(source.id === branch.id ? {} : branch, run.inputs.parentPoint),
        expiresAt,
        ...schemaOnly(branch),
    };
}

;// CONCATENATED MODULE: ./src/util/schema-secrets.ts
/**
 * Credentials in schema text, replaced by `***` before the text goes anywhere public (the pull
 * request comment, the job summary, the `schema_diff` output). Pure.
 *
 * `pg_dump --schema-only` (what Neon's schema endpoint returns: BEHAVIOUR.md, Schemas) prints, in
 * the clear:
 * - the options of user mappings, servers, foreign-data wrappers and foreign tables as
 *   ` OPTIONS (\n    name 'value',\n    …\n)`, each option `quote_ident(name) || ' ' ||
 *   quote_literal(value)` (pg_dump.c, dumpUserMappings and getForeignServers): a user mapping's
 *   `password 'secret'` above all ("the options typically define the actual user name and password
 *   of the mapping": CREATE USER MAPPING; postgres_fdw also takes `sslpassword` there);
 * - `CREATE SUBSCRIPTION … CONNECTION '<conninfo>'` (pg_dump.c, dumpSubscription), a libpq
 *   connection string: `password=secret` or `password='se cret'` in the keyword/value form, or
 *   `postgresql://user:secret@host/db` in the URI form (libpq, Connection Strings);
 * - whatever a function body, a column default or a comment holds: the same two forms (a
 *   `dblink_connect('… password=…')`), a URI with a password, or `"password": "…"` in JSON.
 * A role's `PASSWORD '…'` (pg_dumpall, not pg_dump, prints roles) is the first form again.
 *
 * The patterns err on the side of hiding: a value that only looks like a credential is hidden too.
 */
// What a credential's name ends in. A name is a word (letters, digits, `_`, `.`, `-`) ending in one
// of these, in any case, with any prefix: `password`, `PGPASSWORD`, `DB_PASSWORD`, ODBC's `PWD`,
// `sasl.password`, `dbPassword`, `accessToken`, `api_key`.
const SECRET_WORD = '(?:password|passwd|pwd|passphrase|secret|token|api_?key|access_?key|private_?key|credentials?)';
// The name starts a word (the look-behind), so each word is tried from its start only, and its
// prefix is bounded: no long run of letters can cost time quadratic in its length.
const NAME_START = '(?<![a-z0-9_.-])';
const PREFIX = '[a-z0-9_.-]{0,64}?';
// An option or a JSON key may go on (`ssl_password_file`); an assignment's name must end in the
// word, so that `token_count = 0` is no credential. `password_required` is a flag, not one.
const SECRET_NAME = `${NAME_START}(?!password_required\\b)${PREFIX}${SECRET_WORD}(?:_[a-z0-9]+){0,8}`;
// `name 'value'` (an OPTIONS entry, or PASSWORD '…' of a role): the name, quoted or not, then a
// literal, E'…' included (quote_literal writes E'…' for a value holding a backslash).
const OPTION_RE = new RegExp(`(^|[\\s(,])("?)(${SECRET_NAME})\\2(\\s+)(E?)'((?:[^']|'')*)'`, 'gim');
// `name=value`: a connection string's `password=…` (libpq), an environment variable's
// `PGPASSWORD=…`, ODBC's `PWD=…;`, a setting's `api_key = '…'`. The value quoted (within an SQL
// literal its quotes are doubled), in double quotes, in ODBC's braces, or not quoted (up to a blank
// or the literal's closing quote).
const ASSIGN_RE = new RegExp(`${NAME_START}(${PREFIX}${SECRET_WORD})(\\s*:?=\\s*)(''(?:\\\\''|\\\\.|[^'\\\\])*''|'(?:\\\\.|[^'\\\\])*'|"(?:\\\\.|[^"\\\\])*"|\\{[^}]{0,1024}\\}|(?:\\\\.|''|'(?![\\s,;)]|$)|[^\\s'\\\\])+)`, 'gim');
// `scheme://user:password@` of a URI; the password may hold a quote (doubled in an SQL literal).
// Bounded (a scheme of at most 32 characters, a user name of at most 256, a password of at most
// 1024): the text is the pull request's, and an unbounded run here would let a long `a.a.a…` or
// `a://b:a://b:…` line cost time quadratic in its length.
const URI_RE = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/'"]{0,256}:)([^\s@]{1,1024})@/gi;
// `"password": "value"` of JSON, camelCase keys included (`"dbPassword"`, `"accessToken"`).
const JSON_RE = new RegExp(`("${SECRET_NAME}"\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`, 'gi');
/** `text` with every credential replaced by `***`, and the values replaced. */
function redactSchemaSecrets(text) {
    const found = new Set();
    const keep = (...values) => {
        for (const v of values)
            if (v !== '' && v !== '***')
                found.add(v);
    };
    let out = text.replace(OPTION_RE, (_, lead, q, name, ws, e, v) => {
        keep(v, v.replace(/''/g, "'"), e ? v.replace(/''/g, "'").replace(/\\\\/g, '\\') : '');
        return `${lead}${q}${name}${q}${ws}${e}'***'`;
    });
    out = out.replace(ASSIGN_RE, (_, name, eq, v) => {
        const inner = v
            .replace(/^''(.*)''$/s, '$1')
            .replace(/^'(.*)'$/s, '$1')
            .replace(/^"(.*)"$/s, '$1')
            .replace(/^\{(.*)\}$/s, '$1');
        // In a URI's query (`?password=x&sslmode=…`) the value ends at `&`, and is percent-encoded.
        const query = inner.split('&')[0] ?? '';
        keep(v, inner, inner.replace(/''/g, "'").replace(/\\(.)/g, '$1'), query, safeDecode(query));
        return `${name}${eq}***`;
    });
    out = out.replace(URI_RE, (_, head, v) => {
        keep(v, safeDecode(v), v.replace(/''/g, "'"));
        return `${head}***@`;
    });
    out = out.replace(JSON_RE, (_, head, v) => {
        keep(v, v.replace(/\\(.)/g, '$1'));
        return `${head}"***"`;
    });
    return { text: out, secrets: [...found] };
}
function safeDecode(v) {
    try {
        return decodeURIComponent(v);
    }
    catch {
        return v;
    }
}

;// CONCATENATED MODULE: ./src/modes/schema-diff.ts










/**
 * schema-diff: what the pull request's migrations did to `database`. Reads the schema of the
 * branch (at its head) and of its parent, or of `parent_branch` (optionally `name@<LSN>` or
 * `name@<timestamp>`), and diffs them as `neonctl branches schema-diff` does. Read-only: it never
 * changes anything in Neon, so `dry_run` makes no difference to it.
 */
async function schemaDiffMode(deps, inputs) {
    const name = resolveBranchName(inputs, deps.context);
    const run = new ModeRun(deps, inputs);
    const { neon, log } = deps;
    const db = inputs.database;
    try {
        const found = await findBranch(neon, run.project, name);
        if (!found) {
            throw new Error(`branch '${name}' does not exist in project ${run.project}; schema-diff compares an existing branch ` +
                `(run mode 'create' first, or set 'branch_name')`);
        }
        const branch = found.branch;
        // Its schema would go into this pull request's comment: another repository's is not ours to show.
        const owner = ownership(found.annotation, deps.context);
        if (owner.kind === 'foreign')
            throw foreignBranchError(branch, owner, deps.context, run.project);
        const base = await resolveBase(run, branch);
        const baseSide = { branchId: base.branch.id, ...base.at };
        const branchSide = { branchId: branch.id };
        log.info(`Comparing the schema of database '${db}' on '${branch.name}' (${branch.id}) with ` +
            `'${base.label}' (${base.branch.id})`);
        // The two reads are independent: side by side, as neonctl does them. Both are let finish, so
        // no request is still running when a failure is reported, and the base's failure comes first.
        const [baseSql, branchSql] = await allFinished([
            readSchema(run, base.branch, baseSide),
            readSchema(run, branch, branchSide),
        ]);
        // A user mapping's password or a subscription's connection string would go into a public
        // comment: replaced by *** in the diff (so in the comment, the summary and the output alike),
        // on the plain text, before any escaping. A password that changed still shows as a changed line.
        // What was found is never registered with add-mask: the schema is the pull request's text, and
        // masking at its word would let it hide any word from every later step's log (issue 30).
        const patch = diffWithinDeadline(run, baseSide, branchSide, baseSql, branchSql);
        const redacted = redactSchemaSecrets(patch.diff);
        if (redacted.secrets.length > 0) {
            log.info('The schema diff holds credentials (user mapping options, connection strings): shown as ***');
        }
        const diff = redacted.text;
        const { added, removed } = countChanges(diff);
        if (patch.tooLarge) {
            log.warning(`The schemas differ, but the diff was too large to compute: ${tooLargeText(patch.tooLarge)}`);
        }
        else {
            log.info(diff === '' ? 'No schema changes' : `Schema changes: ${added} lines added, ${removed} removed`);
        }
        return {
            mode: 'schema-diff',
            branch: {
                id: branch.id,
                name: branch.name,
                parentId: base.branch.id,
                parentName: base.label,
                expiresAt: branch.expires_at ?? null,
            },
            schema: {
                database: db,
                base: { id: base.branch.id, name: base.label, ...base.at },
                branch: { id: branch.id, name: branch.name },
                diff,
                added,
                removed,
                ...(patch.tooLarge ? { tooLarge: patch.tooLarge } : {}),
            },
            changes: run.changes,
            timings: run.timings(),
        };
    }
    catch (e) {
        throw run.fail(`schema-diff of database '${db}' on branch '${name}'`, e);
    }
}
/** `parent_branch` when given (it must exist), else the branch's own parent. */
async function resolveBase(run, branch) {
    const ref = run.inputs.parentBranch;
    if (ref) {
        // inputs.ts split `name@<point>` already (neonctl's form, src/neon/point-in-time.ts).
        const point = run.inputs.parentPoint;
        const found = await findBranch(run.deps.neon, run.project, ref);
        if (!found)
            throw new Error(`parent_branch '${ref}' does not exist in project ${run.project}`);
        const at = point?.lsn !== undefined
            ? { lsn: point.lsn }
            : point?.timestamp !== undefined
                ? { timestamp: point.timestamp }
                : {};
        const suffix = at.lsn ?? at.timestamp;
        return { branch: found.branch, label: suffix ? `${found.branch.name}@${suffix}` : found.branch.name, at };
    }
    if (!branch.parent_id) {
        const kind = branch.init_source === 'schema-only' ? 'a schema-only branch' : 'a root branch';
        throw new Error(`'${escapeControl(branch.name)}' (${branch.id}) is ${kind} with no parent to compare with; set 'parent_branch'`);
    }
    try {
        const parent = await run.deps.neon.getBranch(run.project, branch.parent_id);
        return { branch: parent, label: parent.name, at: {} };
    }
    catch (e) {
        if (e instanceof NeonApiError && e.status === 404) {
            throw new Error(`the parent ${branch.parent_id} of '${escapeControl(branch.name)}' no longer exists; set 'parent_branch'`, { cause: e });
        }
        throw e;
    }
}
/**
 * One side's schema. When Neon refuses with a 4xx, the branch's databases are listed: a database
 * missing from the branch is then named as such, rather than left to whatever Neon's message says.
 */
async function readSchema(run, branch, side) {
    const { neon } = run.deps;
    const db = run.inputs.database;
    try {
        return await neon.getBranchSchema(run.project, branch.id, db, side);
    }
    catch (e) {
        if (!(e instanceof NeonApiError) || e.status < 400 || e.status >= 500 || e.status === 429)
            throw e;
        let names;
        try {
            names = (await neon.listDatabases(run.project, branch.id)).map((d) => d.name);
        }
        catch {
            throw e;
        }
        if (names.includes(db))
            throw e;
        throw new Error(`database '${db}' does not exist on branch '${escapeControl(branch.name)}' (${branch.id}); it has ` +
            `${names.length ? names.map((n) => `'${escapeControl(n)}'`).join(', ') : 'no databases'}. Set 'database' to one of them ` +
            `(Neon answered: ${e.message})`, { cause: e });
    }
}
/**
 * The diff, given what is left of the step's deadline and at most MAX_DIFF_EDIT_LINES changed
 * lines (schema-patch.ts says why): the schemas are the pull request's, and a diff must not hold
 * the step past its `timeout`. When cut, the sizes of the two schemas instead.
 */
function diffWithinDeadline(run, base, branch, baseSql, branchSql) {
    const timeoutMs = run.poll.deadline - run.deps.clock.now();
    const db = run.inputs.database;
    const limits = { timeoutMs, maxEditLength: MAX_DIFF_EDIT_LINES };
    const diff = boundedSchemaPatch(db, base, branch, baseSql, branchSql, limits);
    if (diff !== undefined)
        return { diff };
    return {
        diff: '',
        tooLarge: { base: textSize(baseSql), branch: textSize(branchSql), maxChangedLines: MAX_DIFF_EDIT_LINES },
    };
}

;// CONCATENATED MODULE: ./src/neon/advice.ts
// What to do about a failure Neon answered (issue 32): Neon's own text for a wrong key or project
// ("authentication failed", "project not found") says what is wrong but not which input, nor where
// the right value is. The advice names the input and where to check it; it is added to the message
// the step fails with, the comment and the summary. No value of any input is in it.


/** The NeonApiError a failure is, or was caused by; undefined when there is none. */
function neonErrorIn(e) {
    const seen = new Set();
    for (let x = e; x instanceof Error && !seen.has(x); x = x.cause) {
        seen.add(x);
        if (x instanceof NeonApiError)
            return x;
    }
    return undefined;
}
/** Neon refused the key itself (401, BEHAVIOUR.md: "401 bad or revoked key"). */
function isAuthFailure(e) {
    return neonErrorIn(e)?.status === 401;
}
// A 404 on the project itself: on a route that names nothing inside the project (the project, its
// branch listing or creation, its operations), or whose message says the project is what is missing
// (Neon answers "project not found"; BEHAVIOUR.md: "404 unknown project/branch, and also for an
// organization key used on a user-scoped endpoint").
const PROJECT_ROUTE = /^\/projects\/[^/?]+(\/(branches|branch_anonymized|operations))?(\?|$)/;
/** Neon knows no such project for this key: a wrong `project_id`, or a key that cannot see it. */
function isProjectNotFound(e) {
    const err = neonErrorIn(e);
    if (err?.status !== 404)
        return false;
    return PROJECT_ROUTE.test(err.path) || /\bproject\b[^.]*\bnot found\b/i.test(err.neonMessage);
}
/** What to do, naming the input, for the failures whose cause is an input; else undefined. */
function adviceFor(e) {
    if (isAuthFailure(e)) {
        return (`Check input '${INPUTS.apiKey}': Neon refused the API key. Check that the secret the workflow ` +
            `passes as ${INPUTS.apiKey} (e.g. secrets.NEON_API_KEY: its name in the workflow, and that it is ` +
            `set for this repository or its organization) holds a key that is not revoked (Neon console → ` +
            `Account settings → API keys), and that a project-scoped key is one of this project's.`);
    }
    if (isProjectNotFound(e)) {
        return (`Check input '${INPUTS.projectId}': Neon knows no such project for this API key. The project id ` +
            `is in the Neon console → your project → Settings (Project ID, e.g. wispy-cell-12345678), or ` +
            `printed by \`neonctl projects list\`. A key of another account or organization, or a ` +
            `project-scoped key of another project, gets the same 404.`);
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/util/clock.ts
const systemClock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

;// CONCATENATED MODULE: ./src/util/cancel.ts
/**
 * Cancellation of a run's waiting. When the runner cancels a job it sends the step SIGINT, then
 * SIGTERM about 7.5 s later, then kills it (the post steps still run). Every wait of the action —
 * polling, and the client's retry backoff — sleeps through a Clock, so a clock whose sleeps end
 * with a CancelledError stops all of them at once without the modes knowing about signals. A
 * request already in flight is let finish: its answer (say, the id of a branch just created) is
 * worth more than the few milliseconds it takes.
 */

/** What a sleep ends with once the run has been cancelled. */
class CancelledError extends Error {
    reason;
    constructor(reason) {
        super(`the step was cancelled (${reason}); stopped waiting`);
        this.reason = reason;
        this.name = 'CancelledError';
    }
}
/**
 * Wraps `base`. On the real clock the sleep's own timer is cleared at cancellation, so no timer
 * keeps the process alive once the run has given up; any other clock (a test's) is raced.
 */
function cancellable(base = systemClock) {
    let reason;
    const waiting = new Set();
    const sleep = (ms) => {
        if (reason !== undefined)
            return Promise.reject(new CancelledError(reason));
        return new Promise((resolve, reject) => {
            let timer;
            const stop = (e) => {
                if (timer !== undefined)
                    clearTimeout(timer);
                reject(e);
            };
            const done = () => {
                waiting.delete(stop);
                resolve();
            };
            waiting.add(stop);
            if (base === systemClock)
                timer = setTimeout(done, Math.max(0, ms));
            else
                base.sleep(ms).then(done, (e) => (waiting.delete(stop), reject(e)));
        });
    };
    return {
        clock: { now: () => base.now(), sleep },
        get reason() {
            return reason;
        },
        cancel(why) {
            if (reason !== undefined)
                return;
            reason = why;
            const error = new CancelledError(why);
            for (const stop of [...waiting]) {
                waiting.delete(stop);
                stop(error);
            }
        },
    };
}

;// CONCATENATED MODULE: ./src/neon/lock-wait.ts


/** The spread of a run's first aim at a release: a burst's runs all aim at the same one. */
const FIRST_SPREAD_MS = 1200;
/** The spread of later aims, when the backoff has thinned out who aims at a release. */
const SPREAD_MS = 150;
/** Nothing known of what holds the project: the first backoff, doubling up to the cap. */
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 2000;
/**
 * The backoff window after the first refusal at a release, and its cap, in releases. Every run of a
 * burst aims at the first release; refused there, a quarter of them try at the next. The cap keeps
 * a burst of fifty runs within Neon's 700 requests a minute (a window of ten: about one try and
 * two looks at each release from fifty waiting runs, beside the work of the run that got the lock).
 */
const FIRST_LOSS_WINDOW = 4;
const MAX_WINDOW = 12;
/** A look taken after a skipped release comes this long after it was predicted. */
const LOOK_AFTER_MS = 150;
/** The least time between two requests of one wait (the read after a 423 and the try after it). */
const MIN_GAP_MS = 50;
/** After a look refused with 429: 1 to 2 s (Neon documents 700 a minute and 40 a second per route). */
const RATE_LIMITED_MS = 1000;
/** What holds the project after a refusal at a release, until the next look says more. */
const TAKEN_OVER = "another run's operations, started as";
/** With nothing known of what holds the project, it is looked at again no sooner than this. */
const UNKNOWN_LOOK_MS = 5000;
/** The least spread assumed of a predicted end, however regular the history. */
const MIN_SD_MS = 25;
/** Still holding the project: in progress, or `cancelling` (on its way to `cancelled`, BEHAVIOUR.md). */
const unfinished = (op) => op.status === 'cancelling' || (!OPERATION_SUCCESS.has(op.status) && !OPERATION_FAILURE.has(op.status));
/**
 * When the project's unfinished operations should all have ended. The project runs them one after
 * another, oldest first; a running one has run `total_duration_ms` so far (see OperationDurations),
 * and each is expected to take the median of its action's recent durations here.
 */
function predictRelease(ops, durations, now) {
    const pending = ops.filter(unfinished).reverse();
    if (pending.length === 0)
        return { kind: 'free' };
    const holders = describeHolders(pending);
    let at = now;
    let variance = 0;
    for (const op of pending) {
        const t = durations.typical(op.action);
        if (!t)
            return { kind: 'unknown', holders };
        const sd = Math.max(MIN_SD_MS, t.sd);
        // Overdue: it should end any moment, within about its usual spread.
        const left = op.status === 'running' ? Math.max(sd, t.ms - op.total_duration_ms) : t.ms;
        at += left;
        variance += sd * sd;
    }
    // The holder's whole request: its operations were created together (same created_at), the finished
    // ones included, so the next request to take the lock is expected to hold it about as long.
    const batch = ops.filter((op) => op.created_at === pending[0].created_at);
    const holdMs = batch.reduce((sum, op) => sum + (durations.typical(op.action)?.ms ?? 0), 0);
    return { kind: 'held', at: Math.round(at), sd: Math.sqrt(variance), holdMs: holdMs || at - now, holders };
}
/** `create_branch (br-x, running 1.2 s), start_compute (scheduling)` for messages. */
function describeHolders(pending) {
    return pending
        .map((op) => {
        const on = op.branch_id ?? op.endpoint_id;
        const state = op.status === 'running' ? `running ${(op.total_duration_ms / 1000).toFixed(1)} s` : op.status;
        return `${op.action} (${on ? `${on}, ` : ''}${state})`;
    })
        .join(', ');
}
const lock_wait_isRateLimited = (e) => e instanceof NeonApiError && e.status === 429;
/** The wait would pass the step's deadline: the request fails now, saying so. */
class LockDeadline extends Error {
    waitedMs;
    tries;
    holders;
    constructor(waitedMs, tries, holders) {
        super(`Waited ${(waitedMs / 1000).toFixed(1)} s for the project lock (${tries} ${tries === 1 ? 'try' : 'tries'} ` +
            `refused with 423); it is held by ${holders}; the next try would come after the step's deadline ` +
            `(the 'timeout' input). Raise 'timeout', or start fewer jobs against this project at once.`);
        this.waitedMs = waitedMs;
        this.tries = tries;
        this.holders = holders;
        this.name = 'LockDeadline';
    }
}
/**
 * The wait of one request for the project lock, from its first 423 until it gets through: call
 * `beforeRetry` after every 423, and try again when it returns.
 */
class LockWait {
    deps;
    /** Tries refused with 423 so far. */
    tries = 0;
    started;
    /** What held the project at the last look. */
    holders = 'operations not seen (the project could not be read)';
    /** The backoff window, in releases of the lock. */
    window = 1;
    /** The last try was aimed at a release: a 423 to it means another run took the lock then. */
    aimed = false;
    first = true;
    holdMs;
    sd = MIN_SD_MS;
    /** Releases predicted since the last look: the error of a prediction grows with each. */
    chain = 0;
    backoffs = 0;
    /** When the last look found holders of unknown duration: until UNKNOWN_LOOK_MS later, only back off. */
    unknownSince;
    /** The last look found nothing unfinished. */
    lastLookFree = false;
    constructor(deps) {
        this.deps = deps;
        this.started = deps.clock.now();
    }
    /** Sleeps (and looks at the project when that is worth a request) until the next try; `sentAt` is when the refused one was sent. */
    async beforeRetry(sentAt) {
        this.tries++;
        if (!this.aimed || this.holdMs === undefined)
            return this.look();
        // Another run took the lock as it was released (about when this try was sent): its hold ends
        // about one hold later. Fewer runs aim at each release the more often this happens.
        if (!this.holders.startsWith(TAKEN_OVER))
            this.holders = `${TAKEN_OVER} ${this.holders} ended`;
        this.window = Math.min(MAX_WINDOW, Math.max(FIRST_LOSS_WINDOW, this.window * 2));
        const skip = Math.floor(this.deps.random() * this.window);
        this.window = Math.max(1, this.window - skip / 2);
        const release = sentAt + this.holdMs;
        if (skip === 0) {
            this.chain++;
            return this.aimAt(release, this.chain, SPREAD_MS);
        }
        // Skipping releases: look just after the next one. Taken by another run, the look says when
        // that one ends, and the rest of the releases to skip follow it; not taken, few runs are left
        // and this one tries at once, instead of sleeping through releases nobody takes.
        await this.sleepUntil(release + this.margin(this.chain + 1) + LOOK_AFTER_MS);
        return this.look(skip - 1);
    }
    /**
     * A try of this request was answered 429 (the client retries it by its policy, after Retry-After):
     * the account's requests are used up by the runs sharing the key, so this one steps back furthest.
     */
    rateLimited() {
        this.window = MAX_WINDOW;
    }
    /**
     * Reads what holds the project and sleeps until just after it should let go, or `skip` releases
     * of a typical hold after that.
     */
    async look(skip = 0) {
        const { clock, durations } = this.deps;
        if (this.unknownSince !== undefined && clock.now() - this.unknownSince < UNKNOWN_LOOK_MS) {
            return this.backOff();
        }
        this.unknownSince = undefined;
        let ops;
        try {
            ops = await this.deps.readOperations();
        }
        catch (e) {
            // Unreadable now (a timeout, a 5xx): the try itself will tell. A 429 says that the account's
            // requests are used up, by every run sharing the key: this one steps back the furthest.
            if (lock_wait_isRateLimited(e)) {
                this.window = MAX_WINDOW;
                this.aimed = false;
                return this.sleepUntil(clock.now() + RATE_LIMITED_MS * (1 + this.deps.random()));
            }
        }
        if (ops)
            durations.learn(ops);
        const now = clock.now();
        const release = ops ? predictRelease(ops, durations, now) : undefined;
        this.chain = 0;
        if (release?.kind === 'free' && this.lastLookFree) {
            // Refused again although nothing shows as running (Neon's other 423, "endpoint is in some
            // transitive state", or operations this page does not show): what holds it is unknown.
            this.lastLookFree = false;
            this.unknownSince = now;
            return this.backOff();
        }
        this.lastLookFree = release?.kind === 'free';
        if (release?.kind === 'free') {
            // Released since the 423, and nobody took it: few runs are waiting, so this one goes back to
            // trying at every release. Refused now means another run took it just now.
            this.window = 1;
            this.aimed = true;
            return this.sleepUntil(now + this.deps.random() * SPREAD_MS);
        }
        if (release?.kind !== 'held') {
            if (release) {
                this.holders = release.holders;
                this.unknownSince = now;
            }
            return this.backOff();
        }
        this.holders = release.holders;
        this.holdMs = release.holdMs;
        this.sd = release.sd;
        // Still skipping: looking again every half window of releases, so that releases nobody takes
        // (the runs still waiting are fewer than the window thought) cost at most that many holds.
        const every = Math.max(1, Math.ceil(this.window / 2));
        if (skip >= every) {
            this.aimed = false;
            await this.sleepUntil(release.at + (every - 1) * release.holdMs + this.margin(every) + LOOK_AFTER_MS);
            return this.look(skip - every);
        }
        this.chain = 1 + skip;
        const spread = this.first ? FIRST_SPREAD_MS : SPREAD_MS;
        this.first = false;
        return this.aimAt(release.at + skip * release.holdMs, this.chain, spread);
    }
    /** Nothing known of when the project is let go: 250 ms, doubling to 2 s, jittered. */
    async backOff() {
        this.aimed = false;
        const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.backoffs++);
        return this.sleepUntil(this.deps.clock.now() + ceiling * (0.5 + this.deps.random() / 2));
    }
    async aimAt(release, chain, spread) {
        this.aimed = true;
        await this.sleepUntil(release + this.margin(chain) + this.deps.random() * spread);
    }
    /** Past the predicted end by one standard deviation of it, which grows with every release predicted blind. */
    margin(chain) {
        return Math.max(MIN_SD_MS, this.sd) * Math.sqrt(Math.max(1, chain));
    }
    async sleepUntil(at) {
        const { clock, deadline } = this.deps;
        const now = clock.now();
        const wake = Math.max(at, now + MIN_GAP_MS);
        if (wake >= deadline)
            throw new LockDeadline(now - this.started, this.tries, this.holders);
        await clock.sleep(wake - now);
    }
}

;// CONCATENATED MODULE: ./src/neon/retry.ts
const DEFAULT_RETRY_POLICY = {
    maxAttempts: 8,
    baseMs: 500,
    capMs: 10_000,
    maxRetryAfterMs: 60_000,
    // 423: the project is locked by running operations (ours or another run's); 429: rate limit;
    // 502/503/504/524: the proxy in front of Neon.
    statuses: new Set([423, 429, 502, 503, 504, 524]),
    getOnlyStatuses: new Set([500]),
};
/** Whether a response status (0 = no response) is worth another try for this method. */
function isRetryable(policy, method, status) {
    if (status === 0)
        return true;
    if (policy.statuses.has(status))
        return true;
    return method === 'GET' && policy.getOnlyStatuses.has(status);
}
/**
 * Delay before retry number `retry` (0 for the first retry): uniform in [0, min(cap, base·2^retry)],
 * or the server's Retry-After when it gave one.
 */
function retryDelayMs(policy, retry, random, retryAfterMs) {
    if (retryAfterMs !== undefined)
        return Math.min(retryAfterMs, policy.maxRetryAfterMs);
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retry);
    return Math.floor(random() * ceiling);
}
/** Parses a Retry-After header: delta seconds or an HTTP date. Undefined when absent or unreadable. */
function parseRetryAfter(value, nowMs) {
    if (value === null || value.trim() === '')
        return undefined;
    const v = value.trim();
    if (/^\d+(\.\d+)?$/.test(v))
        return Math.round(Number(v) * 1000);
    const at = Date.parse(v);
    if (Number.isNaN(at))
        return undefined;
    return Math.max(0, at - nowMs);
}

;// CONCATENATED MODULE: ./src/neon/client.ts





/** Neon's own page size for branch lists, and its cap (BEHAVIOUR.md, Branches). */
const BRANCH_PAGE_SIZE = 100;
/**
 * Pages one listing follows at most: 1,000 pages of 100 are 100,000 branches, far past any plan's
 * branch limit (Neon documents no limit above a few thousand), so only a server that hands out
 * cursors for ever reaches it, and the run stops instead of paging until its timeout.
 */
const MAX_LIST_PAGES = 1000;
/**
 * The largest response body read: 64 MiB. The largest answer the action asks for is a schema
 * (`pg_dump --schema-only` of a database), megabytes for very large schemas; past this the
 * answer is not Neon's, and reading on would only exhaust the runner's memory.
 */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** A try's own timeout, when the step's deadline would cut it shorter, is at least this. */
const MIN_TRY_TIMEOUT_MS = 1000;
/** Keys whose string values are secrets wherever they appear in a Neon response. */
const SECRET_KEYS = new Set(['password', 'connection_uri', 'uri']);
/**
 * Typed client for the parts of the Neon Management API v2 this action uses. Every call goes
 * through the private `request()`: auth, user agent, timeout, retry policy, secret masking and
 * error mapping live there and nowhere else.
 */
class NeonClient {
    opts;
    stats = {
        requests: 0,
        retries: 0,
        byRoute: {},
        lock: { waits: 0, tries: 0, waitedMs: 0, longestMs: 0 },
    };
    policy;
    random;
    requestTimeoutMs;
    deadline;
    durations = new Map();
    constructor(opts) {
        this.opts = opts;
        this.policy = opts.retry ?? DEFAULT_RETRY_POLICY;
        this.random = opts.random ?? Math.random;
        this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
        this.deadline = opts.deadline ?? Infinity;
    }
    /**
     * How long each action's operations take in this project, as this run knows it: one store per
     * project, shared by every poll and every wait for the project lock, and the project's recent
     * history read once, by whichever needs it first.
     */
    durationsOf(projectId) {
        let d = this.durations.get(projectId);
        if (!d) {
            d = new OperationDurations(() => this.listRecentOperations(projectId, HISTORY_LIMIT));
            this.durations.set(projectId, d);
        }
        return d;
    }
    // --- projects ---
    async getProject(projectId) {
        const r = await this.request('GET', '/projects/{project_id}', {
            project_id: projectId,
        });
        return this.need(r, 'GET', `/projects/${projectId}`).project;
    }
    // --- branches ---
    /** How many branches the project has, as Neon counts them against its branch limit. */
    async countBranches(projectId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/count', {
            project_id: projectId,
        });
        return this.need(r, 'GET', `/projects/${projectId}/branches/count`).count;
    }
    /**
     * One page of the branch list. `includeDeleted` adds the recoverable deleted branches, each with
     * `recovery` (Neon's `include_deleted=true`; recovery.ts); it is sent only when asked for.
     */
    async listBranchesPage(projectId, q = {}) {
        const r = await this.request('GET', '/projects/{project_id}/branches', { project_id: projectId }, {
            query: {
                search: q.search,
                limit: q.limit,
                cursor: q.cursor,
                sort_by: q.sortBy,
                sort_order: q.sortOrder,
                include_deleted: q.includeDeleted ? true : undefined,
            },
        });
        return r.data ?? { branches: [], annotations: {} };
    }
    /**
     * Every branch matching `search` (all when omitted), following `pagination.next` until the end.
     * Annotations of every page are merged.
     *
     * Neon caps branch pages at 100 whatever `limit` asks (BEHAVIOUR.md, Branches; neonctl 5.0.1
     * `dist/utils/enrichers.js`), so a page shorter than the limit is *not* the last one: the list
     * ends only when there is no cursor, a page comes back empty, or a cursor repeats (a server bug
     * must not loop us forever). Page size 100, as Neon's CLI asks.
     */
    async listBranches(projectId, search, pageSize = BRANCH_PAGE_SIZE, o = {}) {
        const branches = [];
        const annotations = {};
        const seenCursors = new Set();
        const maxPages = this.opts.maxListPages ?? MAX_LIST_PAGES;
        let cursor;
        for (let pages = 1;; pages++) {
            const page = await this.listBranchesPage(projectId, {
                search,
                limit: pageSize,
                cursor,
                ...(o.includeDeleted ? { includeDeleted: true } : {}),
            });
            branches.push(...page.branches);
            Object.assign(annotations, page.annotations ?? {});
            const next = page.pagination?.next;
            if (!next || page.branches.length === 0 || seenCursors.has(next))
                break;
            if (pages >= maxPages) {
                throw new Error(`listing the branches of project ${projectId}${search ? ` matching '${search}'` : ''} stopped after ` +
                    `${pages} pages (${branches.length} branches) with more still announced: no project has that ` +
                    `many, so the API at ${this.opts.apiHost} is not answering as Neon does`);
            }
            seenCursors.add(next);
            cursor = next;
        }
        return { branches, annotations };
    }
    async getBranch(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}', {
            project_id: projectId,
            branch_id: branchId,
        });
        return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}`).branch;
    }
    /**
     * The branch and its annotation: Neon's GET answers both (OpenAPI getProjectBranch:
     * BranchResponse and AnnotationResponse), and whose a branch is lives in the annotation.
     */
    async getBranchAnnotated(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}', { project_id: projectId, branch_id: branchId });
        const data = this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}`);
        return { branch: data.branch, ...(data.annotation ? { annotation: data.annotation } : {}) };
    }
    async createBranch(projectId, body) {
        const r = await this.request('POST', '/projects/{project_id}/branches', { project_id: projectId }, { body });
        return this.need(r, 'POST', `/projects/${projectId}/branches`);
    }
    async updateBranch(projectId, branchId, branch) {
        const r = await this.request('PATCH', '/projects/{project_id}/branches/{branch_id}', { project_id: projectId, branch_id: branchId }, { body: { branch } });
        const data = this.need(r, 'PATCH', `/projects/${projectId}/branches/${branchId}`);
        return { branch: data.branch, operations: data.operations ?? [] };
    }
    /**
     * Neon's "reset from parent" (or restore to a point in time with source_lsn / source_timestamp):
     * the branch keeps its id, compute host and role passwords.
     */
    async restoreBranch(projectId, branchId, body) {
        const r = await this.request('POST', '/projects/{project_id}/branches/{branch_id}/restore', { project_id: projectId, branch_id: branchId }, { body });
        const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/restore`);
        return { branch: data.branch, operations: data.operations ?? [] };
    }
    /**
     * Deletes a branch. Returns null when the branch was already gone (deleted by another run, or
     * expired): Neon answers 204 for that, and a 404 means the same, so every caller reads one answer.
     *
     * `hard`: `hard_delete=true` (Neon's API description, deleteProjectBranch: "the branch is
     * permanently deleted immediately without a recovery window"), for a branch whose data must never
     * come back (unmasked data). Without it the branch stays recoverable for 7 days.
     */
    async deleteBranch(projectId, branchId, opts = {}) {
        let r;
        try {
            r = await this.request('DELETE', '/projects/{project_id}/branches/{branch_id}', { project_id: projectId, branch_id: branchId }, opts.hard ? { query: { hard_delete: true } } : {});
        }
        catch (e) {
            if (isNotFound(e))
                return null;
            throw e;
        }
        if (r.status === 204 || r.data === undefined)
            return null;
        return { branch: r.data.branch, operations: r.data.operations ?? [] };
    }
    /**
     * Brings a soft-deleted branch back with its endpoints (Neon's `recoverProjectBranch`, in preview:
     * BEHAVIOUR.md, "Deleted branches can be recovered"). The answer carries no operations.
     */
    async recoverBranch(projectId, branchId) {
        const r = await this.request('POST', '/projects/{project_id}/branches/{branch_id}/recover', { project_id: projectId, branch_id: branchId });
        const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/recover`);
        return { branch: data.branch, endpoints: data.endpoints ?? [] };
    }
    // --- endpoints ---
    async listBranchEndpoints(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/endpoints', { project_id: projectId, branch_id: branchId });
        return r.data?.endpoints ?? [];
    }
    async createEndpoint(projectId, endpoint) {
        const r = await this.request('POST', '/projects/{project_id}/endpoints', { project_id: projectId }, { body: { endpoint } });
        const data = this.need(r, 'POST', `/projects/${projectId}/endpoints`);
        return { endpoint: data.endpoint, operations: data.operations ?? [] };
    }
    /** Changes a compute's settings (OpenAPI EndpointUpdateRequest); the change is done when its operations are. */
    async updateEndpoint(projectId, endpointId, endpoint) {
        const r = await this.request('PATCH', '/projects/{project_id}/endpoints/{endpoint_id}', { project_id: projectId, endpoint_id: endpointId }, { body: { endpoint } });
        const data = this.need(r, 'PATCH', `/projects/${projectId}/endpoints/${endpointId}`);
        return { endpoint: data.endpoint, operations: data.operations ?? [] };
    }
    // --- roles and databases ---
    async revealPassword(projectId, branchId, role) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password', { project_id: projectId, branch_id: branchId, role_name: role });
        return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/roles/${role}/reveal_password`)
            .password;
    }
    /** The names of the branch's roles. */
    async listRoles(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/roles', {
            project_id: projectId,
            branch_id: branchId,
        });
        return (r.data?.roles ?? []).map((role) => role.name);
    }
    async createRole(projectId, branchId, name) {
        const body = { role: { name } };
        const r = await this.request('POST', '/projects/{project_id}/branches/{branch_id}/roles', { project_id: projectId, branch_id: branchId }, { body });
        const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/roles`);
        return { role: data.role, operations: data.operations ?? [] };
    }
    /**
     * POST …/roles/{role_name}/reset_password (Neon's API description, resetProjectBranchRolePassword):
     * a new password for the role, in the answer's `role.password` (masked at receipt, as every
     * password is), and the operations that apply it to the branch's computes.
     */
    async resetRolePassword(projectId, branchId, role) {
        const r = await this.request('POST', '/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reset_password', { project_id: projectId, branch_id: branchId, role_name: role });
        const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/roles/${role}/reset_password`);
        return { role: data.role, operations: data.operations ?? [] };
    }
    async listDatabases(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/databases', { project_id: projectId, branch_id: branchId });
        return r.data?.databases ?? [];
    }
    async createDatabase(projectId, branchId, name, ownerName) {
        const body = { database: { name, owner_name: ownerName } };
        const r = await this.request('POST', '/projects/{project_id}/branches/{branch_id}/databases', { project_id: projectId, branch_id: branchId }, { body });
        const data = this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/databases`);
        return { database: data.database, operations: data.operations ?? [] };
    }
    // --- Neon Auth and the Data API ---
    /**
     * The branch's Neon Auth integration (its `base_url` is the `auth_url` output), or null when Neon
     * Auth is not enabled on the branch: Neon answers 404 then (BEHAVIOUR.md, "Neon Auth and the Data
     * API"; Neon's create-branch-action reads it the same way).
     */
    async getNeonAuth(projectId, branchId) {
        return this.unlessNotFound(this.request('GET', '/projects/{project_id}/branches/{branch_id}/auth', {
            project_id: projectId,
            branch_id: branchId,
        }), 'GET', `/projects/${projectId}/branches/${branchId}/auth`);
    }
    /**
     * The Data API of one database of the branch (its `url` is the `data_api_url` output), or null
     * when the Data API is not enabled for that database: Neon answers 404 then (BEHAVIOUR.md).
     */
    async getDataApi(projectId, branchId, database) {
        return this.unlessNotFound(this.request('GET', '/projects/{project_id}/branches/{branch_id}/data-api/{database_name}', {
            project_id: projectId,
            branch_id: branchId,
            database_name: database,
        }), 'GET', `/projects/${projectId}/branches/${branchId}/data-api/${database}`);
    }
    // --- schemas ---
    /**
     * A database's schema as `pg_dump --schema-only` prints it (BEHAVIOUR.md, Schemas), at the
     * branch's head or at an LSN or a timestamp of its history (never both: Neon's API description).
     */
    async getBranchSchema(projectId, branchId, dbName, at = {}) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/schema', { project_id: projectId, branch_id: branchId }, { query: { db_name: dbName, lsn: at.lsn, timestamp: at.lsn === undefined ? at.timestamp : undefined } });
        // neonctl reads a missing `sql` as an empty schema (schema_diff.js fetchSchema: `sql ?? ""`).
        return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/schema`).sql ?? '';
    }
    // --- anonymized branches (BEHAVIOUR.md, "Anonymized branches") ---
    /**
     * Creates a branch whose data Neon masks with PostgreSQL Anonymizer: answered like createBranch;
     * the masking runs after its operations, and `getAnonymizedStatus` says when it is done.
     */
    async createAnonymizedBranch(projectId, body) {
        const r = await this.request('POST', '/projects/{project_id}/branch_anonymized', { project_id: projectId }, { body });
        return this.need(r, 'POST', `/projects/${projectId}/branch_anonymized`);
    }
    async getMaskingRules(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/masking_rules', { project_id: projectId, branch_id: branchId });
        return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/masking_rules`).masking_rules;
    }
    /** Replaces every rule of the branch (Neon's PATCH is a replacement, not a merge). */
    async updateMaskingRules(projectId, branchId, rules) {
        const r = await this.request('PATCH', '/projects/{project_id}/branches/{branch_id}/masking_rules', { project_id: projectId, branch_id: branchId }, { body: { masking_rules: rules } });
        return this.need(r, 'PATCH', `/projects/${projectId}/branches/${branchId}/masking_rules`).masking_rules;
    }
    /** Starts a masking run with the branch's rules, on the data the branch holds now. */
    async startAnonymization(projectId, branchId) {
        const r = await this.request('POST', '/projects/{project_id}/branches/{branch_id}/anonymize', { project_id: projectId, branch_id: branchId });
        return this.need(r, 'POST', `/projects/${projectId}/branches/${branchId}/anonymize`);
    }
    async getAnonymizedStatus(projectId, branchId) {
        const r = await this.request('GET', '/projects/{project_id}/branches/{branch_id}/anonymized_status', { project_id: projectId, branch_id: branchId });
        return this.need(r, 'GET', `/projects/${projectId}/branches/${branchId}/anonymized_status`);
    }
    // --- operations ---
    async getOperation(projectId, operationId) {
        const r = await this.request('GET', '/projects/{project_id}/operations/{operation_id}', { project_id: projectId, operation_id: operationId });
        return this.need(r, 'GET', `/projects/${projectId}/operations/${operationId}`).operation;
    }
    /**
     * The project's most recent operations, newest first (BEHAVIOUR.md: `GET
     * /projects/{project_id}/operations?limit&cursor` lists them). One page only: the poller reads it
     * for how long each action has taken here, not to see every operation. One try, 5 s at most:
     * without it the poller only polls more, so it is not worth a retry's wait.
     */
    async listRecentOperations(projectId, limit) {
        const r = await this.request('GET', '/projects/{project_id}/operations', { project_id: projectId }, { query: { limit }, attempts: 1, timeoutMs: 5000 });
        return r.data?.operations ?? [];
    }
    // --- the choke point ---
    /** The answer's body, or null for Neon's 404; every other failure is thrown as it is. */
    async unlessNotFound(reply, method, path) {
        try {
            return this.need(await reply, method, path);
        }
        catch (e) {
            if (isNotFound(e))
                return null;
            throw e;
        }
    }
    need(r, method, path) {
        if (r.data === undefined) {
            throw new NeonApiError({
                method,
                path,
                status: r.status,
                neonMessage: 'the response had no body where one was expected',
                attempts: 1,
            });
        }
        return r.data;
    }
    async request(method, route, params, o = {}) {
        const path = route.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k] ?? ''));
        const url = new URL(this.opts.apiHost + path);
        for (const [k, v] of Object.entries(o.query ?? {})) {
            if (v !== undefined)
                url.searchParams.set(k, String(v));
        }
        const routeKey = `${method} ${route}`;
        const maxAttempts = Math.min(this.policy.maxAttempts, o.attempts ?? Infinity);
        const what = `${method} ${path}`;
        // A mutating request refused with 423 waits for the project lock (lock-wait.ts); those tries do
        // not count against maxAttempts, which is for failures.
        const mutating = method !== 'GET';
        let lock;
        let lockTries = 0;
        try {
            for (let sent = 1;; sent++) {
                const attempt = sent - lockTries;
                const started = this.beforeSend(method, path, sent);
                const timeoutMs = this.tryTimeout(o, started);
                this.stats.requests++;
                this.stats.byRoute[routeKey] = (this.stats.byRoute[routeKey] ?? 0) + 1;
                const tried = await this.tryOnce({ method, path, url, o }, sent, started, timeoutMs);
                if ('reply' in tried)
                    return tried.reply;
                const { failure } = tried;
                if (tried.kind === 'answer') {
                    if (tried.status === 423 && mutating && tried.bodyRead) {
                        lock ??= this.lockWait(params['project_id'] ?? '');
                        lockTries++;
                        this.stats.retries++;
                        await waitForLock(lock, started, failure);
                        continue;
                    }
                    // Rate limited while waiting for the lock: fewer tries at each release from now on.
                    if (tried.status === 429)
                        lock?.rateLimited();
                    if (!tried.retryable || attempt >= maxAttempts)
                        throw failure;
                }
                else if (tried.redirected || attempt >= maxAttempts) {
                    throw failure;
                }
                await this.pauseBeforeRetry(failure, attempt, maxAttempts, tried.retryAfter, what);
            }
        }
        finally {
            if (lock)
                this.recordLockWait(what, lock);
        }
    }
    /** Refuses to send when the run is cancelled or the step's deadline has passed; else the time. */
    beforeSend(method, path, sent) {
        const cancelled = this.opts.cancelled?.();
        if (cancelled !== undefined)
            throw new CancelledError(cancelled);
        const started = this.opts.clock.now();
        if (started >= this.deadline) {
            throw new NeonApiError({
                method,
                path,
                status: 0,
                neonMessage: "not sent: the step's deadline (the 'timeout' input) has passed",
                attempts: sent - 1,
            });
        }
        return started;
    }
    /**
     * One try: the reply when it succeeded, else the failure, with what the caller needs to decide
     * whether to wait for the lock, try again or give up. A cancellation propagates.
     */
    async tryOnce(call, sent, started, timeoutMs) {
        const { method, path, url, o } = call;
        const { clock } = this.opts;
        try {
            const res = await fetch(url, {
                method,
                headers: {
                    Authorization: `Bearer ${this.opts.apiKey}`,
                    Accept: 'application/json',
                    'User-Agent': this.opts.userAgent,
                    ...(o.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
                },
                body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
                // The key goes to api_host and nowhere else: a redirect is refused, not followed.
                redirect: 'error',
                signal: AbortSignal.timeout(timeoutMs),
            });
            const requestId = res.headers.get('x-neon-ret-request-id') ?? res.headers.get('x-request-id') ?? undefined;
            const maxBytes = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
            const text = await readBody(res, maxBytes);
            this.opts.debug?.(`${method} ${path} -> ${res.status} (${clock.now() - started} ms${requestId ? `, request id ${requestId}` : ''})`);
            const { body, parseError } = parseReply(text, maxBytes);
            if (body !== undefined)
                this.maskSecrets(body);
            if (res.ok && parseError === undefined) {
                return { reply: { status: res.status, data: res.status === 204 ? undefined : body } };
            }
            const failure = answerFailure({ method, path, res, body, parseError, requestId, attempts: sent });
            const retryAfter = parseRetryAfter(res.headers.get('retry-after'), clock.now());
            // A 2xx whose body we cannot read is retried only when reading again is harmless; a body
            // over the size cap never is.
            const retryable = text === undefined ? false : res.ok ? method === 'GET' : isRetryable(this.policy, method, res.status);
            return {
                kind: 'answer',
                failure,
                status: res.status,
                bodyRead: text !== undefined,
                retryable,
                retryAfter,
            };
        }
        catch (e) {
            if (e instanceof CancelledError)
                throw e;
            const redirected = isRedirectRefusal(e);
            const failure = new NeonApiError({
                method,
                path,
                status: 0,
                neonMessage: redirected
                    ? 'the answer was a redirect, which is refused: the API key goes to api_host and nowhere else ' +
                        '(is api_host the API itself, https://…/api/v2?)'
                    : describeNetworkError(e, timeoutMs, timeoutMs < this.ownTimeout(o)),
                attempts: sent,
            });
            this.opts.debug?.(`${method} ${path} -> ${failure.neonMessage}`);
            return { kind: 'network', failure, redirected, retryAfter: undefined };
        }
    }
    /** The wait for the project lock of one request (lock-wait.ts). */
    lockWait(projectId) {
        return new LockWait({
            clock: this.opts.clock,
            random: this.random,
            deadline: this.deadline,
            durations: this.durationsOf(projectId),
            readOperations: () => this.listRecentOperations(projectId, HISTORY_LIMIT),
        });
    }
    /** Sleeps before the next try, or throws `failure` when that try would come after the deadline. */
    async pauseBeforeRetry(failure, attempt, maxAttempts, retryAfter, what) {
        const { clock } = this.opts;
        const delay = retryDelayMs(this.policy, attempt - 1, this.random, retryAfter);
        const wake = clock.now() + delay;
        if (wake >= this.deadline) {
            throw failure.withDetail(retryAfter !== undefined
                ? `Neon asked to wait ${(retryAfter / 1000).toFixed(1)} s before trying again (Retry-After), ` +
                    `which would pass the step's deadline (the 'timeout' input); not tried again`
                : `The next try, in ${delay} ms, would come after the step's deadline (the 'timeout' input); ` +
                    `not tried again`);
        }
        this.stats.retries++;
        this.opts.debug?.(`retrying ${what} in ${delay} ms (attempt ${attempt + 1} of ${maxAttempts}): ` +
            `${failure.status || 'no response'} ${failure.neonMessage}`);
        await clock.sleep(delay);
    }
    /** A try's timeout: the client's, the request's, and no later than the step's deadline (but at least MIN_TRY_TIMEOUT_MS). */
    tryTimeout(o, now) {
        // Whole milliseconds: AbortSignal.timeout refuses a fraction (a virtual clock's sleeps make them).
        return Math.ceil(Math.min(this.ownTimeout(o), Math.max(MIN_TRY_TIMEOUT_MS, this.deadline - now)));
    }
    ownTimeout(o) {
        return Math.min(this.requestTimeoutMs, o.timeoutMs ?? Infinity);
    }
    /** One log line per wait for the project lock, and its figures for the summary. */
    recordLockWait(what, lock) {
        const waited = this.opts.clock.now() - lock.started;
        const s = this.stats.lock;
        s.waits++;
        s.tries += lock.tries;
        s.waitedMs += waited;
        s.longestMs = Math.max(s.longestMs, waited);
        this.opts.info?.(`Waited ${(waited / 1000).toFixed(1)} s for the project lock before ${what} (${lock.tries} ` +
            `${lock.tries === 1 ? 'try' : 'tries'} refused with 423; last held by ${lock.holders})`);
    }
    /** Hands every secret in a response to onSecret before anyone else sees the response. */
    maskSecrets(value) {
        if (!this.opts.onSecret || value === null || typeof value !== 'object')
            return;
        for (const [k, v] of Object.entries(value)) {
            if (typeof v === 'string' && SECRET_KEYS.has(k) && v !== '')
                this.opts.onSecret(v);
            else if (typeof v === 'object')
                this.maskSecrets(v);
        }
    }
}
function describeNetworkError(e, timeoutMs, cutByDeadline = false) {
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) {
        return `no response within ${timeoutMs} ms${cutByDeadline ? " (what was left of the step's 'timeout')" : ''}`;
    }
    const cause = e instanceof Error ? e.cause : undefined;
    const detail = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    return `network error: ${detail}`;
}
/** fetch with `redirect: 'error'` rejects a redirect with "fetch failed" caused by "unexpected redirect" (undici). */
function isRedirectRefusal(e) {
    const cause = e instanceof Error ? e.cause : undefined;
    return typeof cause?.message === 'string' && /redirect/i.test(cause.message);
}
/**
 * The body as text, or undefined when it is larger than `limit` bytes (announced by Content-Length,
 * or found while reading): then the rest is not read.
 */
async function readBody(res, limit) {
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (announced > limit) {
        await res.body?.cancel().catch(() => { });
        return undefined;
    }
    if (!res.body)
        return '';
    const reader = res.body.getReader();
    const chunks = [];
    let size = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done)
            break;
        size += value.byteLength;
        if (size > limit) {
            await reader.cancel().catch(() => { });
            return undefined;
        }
        chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
}
/** The body of a response read as text (undefined: over `maxBytes`), parsed, or why not. */
function parseReply(text, maxBytes) {
    if (text === undefined)
        return { parseError: `the response was larger than ${maxBytes} bytes; not read` };
    if (text === '')
        return {};
    try {
        return { body: JSON.parse(text) };
    }
    catch {
        return { parseError: `the response was not valid JSON (${text.length} bytes)` };
    }
}
/** The error of an answer that is not a success: Neon's code, message and request id when it gave them. */
function answerFailure(a) {
    const err = (a.body ?? {});
    return new NeonApiError({
        method: a.method,
        path: a.path,
        status: a.res.status,
        code: typeof err.code === 'string' && err.code !== '' ? err.code : undefined,
        neonMessage: a.parseError ??
            (typeof err.message === 'string' && err.message !== '' ? err.message : a.res.statusText),
        requestId: typeof err.request_id === 'string' ? err.request_id : a.requestId,
        attempts: a.attempts,
    });
}
/** Waits for the project lock before the next try; past the deadline, `failure` says why it gave up. */
async function waitForLock(lock, started, failure) {
    try {
        await lock.beforeRetry(started);
    }
    catch (e) {
        if (e instanceof LockDeadline)
            throw failure.withDetail(e.message);
        throw e;
    }
}

;// CONCATENATED MODULE: ./src/log.ts
/**
 * The run's log, through @actions/core, with every message made safe for the runner first (see
 * util/log-text.ts): names and messages from Neon and GitHub reach these lines, and none of them
 * may start a workflow command. Everything the action logs goes through here or core.setFailed
 * (main.ts, with logLines).
 */


const coreLogger = {
    info: (m) => info(logLine(m)),
    // @actions/core escapes these commands' data itself; the message is made one line all the same.
    notice: (m) => notice(logLine(m)),
    warning: (m) => warning(logLine(m)),
    debug: (m) => core_debug(logLine(m)),
};
/** core.group with its title escaped (a branch name may be in it). */
function log_group(name, fn) {
    return group(escapeControl(name), fn);
}

;// CONCATENATED MODULE: ./src/modes/ephemeral-post.ts
/**
 * The post step of `ephemeral: true`: deletes the branch this job's main step created, and
 * nothing else: the branch must carry this job's key and be neither default nor protected (Neon is
 * asked first, whatever was recorded). Runs after success, failure and cancellation alike. The
 * branch may still have operations running (main was cancelled while waiting for them): those are
 * waited for first, as Neon would refuse the delete with 423 meanwhile. A branch already gone (Neon's expiry, a
 * re-run's cleanup) is a success.
 */







async function ephemeralPost(deps, record) {
    const { neon, clock, log } = deps;
    const project = record.projectId;
    const started = clock.now();
    const poll = {
        ...deps.poll,
        clock,
        deadline: deps.deadline ?? started + record.timeoutMs,
        progress: (line) => log.info(line),
        // As main's waits do: the project's recent operations say when the delete should end.
        durations: projectDurations(neon, project),
    };
    const changes = [];
    const result = (deleted, branchId, waitedFor, why) => ({
        name: record.name,
        ...(branchId ? { branchId } : {}),
        deleted,
        ...(why ? { why } : {}),
        waitedFor,
        totalMs: clock.now() - started,
    });
    try {
        // Neon's word on the branch, before anything else: a recorded id is deleted only when that
        // branch carries this job's key (the record could have been written by another step).
        const found = record.branchId
            ? await neon.getBranchAnnotated(project, record.branchId).catch((e) => {
                if (isNotFound(e))
                    return undefined;
                throw e;
            })
            : // Main stopped with its create request in flight: the branch exists only if Neon got it.
                await findBranch(neon, project, record.name);
        if (!found) {
            return record.branchId
                ? result(false, record.branchId, 0, 'it was already gone')
                : result(false, undefined, 0, 'the main step never got to create it');
        }
        const refusal = notOurs(found, record);
        if (refusal !== undefined) {
            log.warning(`Branch '${found.branch.name}' (${found.branch.id}) was not deleted: ${refusal}; it was left alone.`);
            return result(false, found.branch.id, 0, refusal);
        }
        const branchId = found.branch.id;
        let waitedFor = 0;
        if (record.branchId === undefined) {
            if (found.branch.current_state !== 'ready')
                await waitForBranchReady(deps, project, branchId, poll);
        }
        else {
            waitedFor += await settleOperations(deps, project, record.operationIds ?? [], poll);
        }
        const hard = await mayBeUnmasked(deps, project, found);
        const res = await neon.deleteBranch(project, branchId, { hard });
        if (res === null)
            return result(false, branchId, waitedFor, 'it was already gone');
        changes.push(`deleted branch '${record.name}' (${branchId})${hard ? ' for good (not known to be masked)' : ''}`);
        log.info(`Deleting ephemeral branch '${record.name}' (${branchId}); waiting for ${res.operations.length} operations`);
        await waitForOperations(neon, project, res.operations, poll);
        const [recoverable] = hard
            ? []
            : await reportRecoverable(deps, project, [{ id: branchId, name: record.name }]);
        return {
            ...result(true, branchId, waitedFor + res.operations.length),
            ...(recoverable ? { recoverable } : {}),
        };
    }
    catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        throw new ModeError(`post step: deleting ephemeral branch '${record.name}'${record.branchId ? ` (${record.branchId})` : ''} ` +
            `failed: ${message}. It still expires by itself (see its expires_at), and 'mode: cleanup' deletes ` +
            `it once this workflow run has completed.`, changes, e);
    }
}
/**
 * Why the branch is not this job's to delete, or undefined when it is: it must carry the key this
 * job's main step wrote (`github-ephemeral-key`), and be neither the project's default branch nor
 * a protected one (Neon refuses those anyway; this refuses before asking).
 */
function notOurs(found, record) {
    if (found.annotation?.value['github-ephemeral-key'] !== record.key) {
        return "this job's main step did not create it (its github-ephemeral-key annotation is not this job's)";
    }
    if (found.branch.default)
        return "it is the project's default branch";
    if (found.branch.protected)
        return 'it is a protected branch';
    return undefined;
}
/** Waits until each of main's operations has settled, however it ended; returns how many it polled. */
async function settleOperations(deps, project, ids, poll) {
    let polled = 0;
    for (const id of ids) {
        polled++;
        await waitUntil(`operation ${id} started by the main step`, async () => {
            try {
                const op = await deps.neon.getOperation(project, id);
                return { done: operationSettled(op), state: op.status };
            }
            catch (e) {
                // An operation Neon no longer knows is not running.
                if (isNotFound(e))
                    return { done: true, state: 'unknown' };
                throw e;
            }
        }, poll);
    }
    return polled;
}
async function waitForBranchReady(deps, project, id, poll) {
    await waitUntil(`branch ${id} to leave 'init'`, async () => {
        const b = await deps.neon.getBranch(project, id);
        return { done: b.current_state !== 'init', state: b.current_state };
    }, poll);
}
/**
 * An anonymized branch whose masking is not known to be done (the main step's wait ran out, or it
 * failed): its data may be an unmasked copy of its parent, so it is deleted for good (hard_delete),
 * never left recoverable. Any branch that looks anonymized and does not answer `anonymized` counts.
 */
async function mayBeUnmasked(deps, project, found) {
    if (!looksAnonymized(found))
        return false;
    const status = await deps.neon.getAnonymizedStatus(project, found.branch.id).catch(() => undefined);
    return status?.state !== 'anonymized';
}

;// CONCATENATED MODULE: ./src/state.ts
/**
 * What the main step hands the post step. One bundle serves both (action.yml: `main` and `post`
 * are both dist/index.js), as in actions/checkout's state-helper.ts: the main step saves `isPost`,
 * and the runner gives the post step every saved value back as a `STATE_<name>` variable, so a
 * post run is the run that sees `STATE_isPost`. Saving appends to the file at $GITHUB_STATE
 * synchronously, so what is saved survives a kill a moment later.
 */


const STATE_KEYS = {
    isPost: 'isPost',
    /** JSON of an {@link EphemeralRecord}, or '' when there is nothing for the post step to delete. */
    ephemeral: 'ephemeral_branch',
};
/** True in the post run: the main run saved `isPost`, and only the post run is handed it back. */
function isPostRun() {
    return getState(STATE_KEYS.isPost) !== '';
}
/** Called first thing in every main run, whatever the inputs: the post run must know it is one. */
function markMainRan() {
    saveState(STATE_KEYS.isPost, 'true');
}
/** Records what the post step must delete; undefined records that there is nothing. */
function saveEphemeralRecord(record) {
    saveState(STATE_KEYS.ephemeral, record ? JSON.stringify(record) : '');
}
/** The record main saved, undefined when it saved none (or cleared it). */
function readEphemeralRecord() {
    return parseEphemeralRecord(getState(STATE_KEYS.ephemeral));
}
/** Parses a saved record; throws naming the state variable when it is not one (it never should be). */
function parseEphemeralRecord(text) {
    if (text.trim() === '')
        return undefined;
    let value;
    try {
        value = JSON.parse(text);
    }
    catch {
        value = undefined;
    }
    const r = value;
    const ok = typeof r === 'object' &&
        r !== null &&
        typeof r.projectId === 'string' &&
        typeof r.apiHost === 'string' &&
        typeof r.name === 'string' &&
        typeof r.key === 'string' &&
        typeof r.timeoutMs === 'number' &&
        (r.branchId === undefined || typeof r.branchId === 'string') &&
        (r.operationIds === undefined ||
            (Array.isArray(r.operationIds) && r.operationIds.every((x) => typeof x === 'string')));
    if (!ok) {
        throw new Error(`STATE_${STATE_KEYS.ephemeral} does not hold what the main step saves (${text.length} characters); ` +
            'nothing was deleted');
    }
    return r;
}
// What main records: a key from randomUUID, operation ids as Neon gives them (uuids: BEHAVIOUR.md,
// Asynchronous operations), a branch id of Neon's `br-` form, a name without control characters.
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// eslint-disable-next-line no-control-regex
const state_CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const state_MAX_NAME_CHARS = 256;
const MAX_TIMEOUT_MS = 3_600_000;
/**
 * Why a record must not be acted on, or undefined when it may. The state reaches the post step
 * through STATE_* variables, which an earlier step of the job can write too ($GITHUB_ENV): a
 * record is trusted only as far as it agrees with this step's own inputs (the same as main's,
 * validated again) and has the forms main writes. Checked before any request: a forged record
 * must not get the API key sent to its host, nor a DELETE for its id.
 */
function recordProblem(r, expected) {
    if (r.apiHost !== expected.apiHost) {
        return `it names the API host ${shown(r.apiHost)}, not this step's api_host (${expected.apiHost})`;
    }
    if (r.projectId !== expected.projectId) {
        return `it names the project ${shown(r.projectId)}, not this step's project_id (${expected.projectId})`;
    }
    if (r.branchId !== undefined && !isBranchId(r.branchId)) {
        return `its branch id ${shown(r.branchId)} is not of Neon's br-… form`;
    }
    if (r.name === '' || [...r.name].length > state_MAX_NAME_CHARS || state_CONTROL_RE.test(r.name)) {
        return `its branch name ${shown(r.name)} is not one the main step could have used`;
    }
    if (!UUID_RE.test(r.key))
        return 'its github-ephemeral-key is not of the form the main step writes';
    if (!(r.operationIds ?? []).every((id) => UUID_RE.test(id))) {
        return "its operation ids are not of Neon's form";
    }
    if (!Number.isInteger(r.timeoutMs) || r.timeoutMs < 1000 || r.timeoutMs > MAX_TIMEOUT_MS) {
        return `its timeout (${r.timeoutMs} ms) is not one the timeout input allows`;
    }
    return undefined;
}
/** A recorded value in a message: quoted, control characters escaped (JSON's), at most 100 characters. */
function shown(value) {
    const chars = [...value];
    return JSON.stringify(chars.length > 100 ? `${chars.slice(0, 100).join('')}…` : value);
}

;// CONCATENATED MODULE: ./src/usage-summary.ts


/** The section, as lines of HTML for summary.ts. */
function freedHtml(f, dryRun) {
    const e = escapeMarkdownHtml;
    const title = dryRun ? 'What the sweep would free' : 'What the sweep freed';
    if (f.total.branches === 0) {
        return [`<h4>${title}</h4>`, `<p>No branch ${dryRun ? 'would be' : 'was'} deleted.</p>`];
    }
    const out = [
        `<h4>${title}</h4>`,
        `<p>${e(describeFreed(f.total))}. Neon's figures as the sweep listed the branches: measured by ` +
            `Neon, with some lag; no price is computed.</p>`,
    ];
    if (f.largest.length === 0)
        return out;
    const figure = (n, fmt) => n === undefined ? '-' : fmt(n);
    const rows = f.largest.map(({ name, id, usage: u }) => `<tr><td>${e(name)} (${e(id)})</td><td>${e(figure(u.logical_size_bytes, formatBytes))}</td>` +
        `<td>${e(figure(u.compute_time_seconds, formatCuHours))}</td>` +
        `<td>${e(figure(u.active_time_seconds, formatHours))}</td>` +
        `<td>${e(figure(u.written_data_bytes, formatBytes))}</td>` +
        `<td>${e(figure(u.data_transfer_bytes, formatBytes))}</td></tr>`);
    out.push(`<table><tr><th>Largest ${dryRun ? 'to delete' : 'deleted'} (by logical size)</th><th>Logical size</th>` +
        `<th>Compute</th><th>Active</th><th>Written</th><th>Transferred</th></tr>${rows.join('')}</table>`);
    return out;
}

;// CONCATENATED MODULE: ./src/summary.ts
/**
 * The job summary every run writes: what ran, on which branch, what changed, how long it took and
 * how many API requests it cost; for cleanup the table of verdicts; on failure the error.
 *
 * Rendering is pure (renderSummary, tested directly); writeSummary is the one call to core.summary.
 * Every value is HTML-escaped: branch names come from head refs and Neon, and are not ours to trust.
 *
 * GitHub renders the summary as Markdown with HTML (CommonMark), and there an HTML block such as
 * `<table>` or `<details>` ends at the first blank line: whatever follows is Markdown again, where
 * `![x](…)` is an image and `[x](…)` a link. So no value ever brings a line break into one
 * (escapeInline turns them into `<br>`), and the text that keeps its lines (a schema diff, an
 * error) goes in a `<pre>` that starts a block of its own after a blank line: such a block ends
 * only at a line holding `</pre>` (CommonMark 0.31, HTML blocks, start condition 1), which the
 * escaped text cannot hold.
 */









/**
 * Text that keeps its lines, in a `<pre>` block of its own: the blank line before it ends the
 * HTML block above, so `<pre` opens one that only `</pre>` ends. Two entries of the `html` list.
 */
function preBlock(text) {
    return ['', `<pre>${escapeHtml(text.replace(/\r\n?/g, '\n'))}</pre>`];
}
/** Bytes of the escaped schema diff a summary shows; GitHub caps a step's summary at 1 MiB. */
const MAX_SUMMARY_DIFF_BYTES = 900_000;
/** Rows of the cleanup table; a row is a few hundred bytes, the summary's limit 1 MiB. */
const MAX_VERDICT_ROWS = 1500;
const summary_seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
/** The summary as HTML (GitHub renders job summaries as Markdown with HTML). */
function renderSummary(v) {
    const r = v.result;
    const rows = [];
    rows.push(['Mode', `${v.mode ?? '-'}${v.autoBecause ? ` (chosen by auto for ${v.autoBecause})` : ''}`]);
    rows.push(['Outcome', outcomeOf(v)]);
    if (v.skipped)
        rows.push(['Why', v.skipped]);
    rows.push(...branchRows(v), ...costRows(v));
    const html = [
        `<h3>Neon preview branch: ${escapeHtml(v.mode ?? 'not started')}</h3>`,
        table(['What', 'Value'], rows),
    ];
    if (r?.verdicts?.length) {
        html.push(...verdictsHtml(r.verdicts));
    }
    else if (r?.mode === 'cleanup') {
        html.push(`<p>No branch under the prefix was a candidate.</p>`);
    }
    if (r?.freed)
        html.push(...freedHtml(r.freed, v.dryRun === true));
    if (r?.recoverable?.length)
        html.push(...undoHtml(r.recoverable, v));
    if (r?.schema)
        html.push(...schemaHtml(r.schema));
    if (r?.failures?.length) {
        html.push(`<h4>Failures</h4>`, `<ul>${r.failures.map((f) => `<li>${escapeInline(f)}</li>`).join('')}</ul>`);
    }
    if (v.error)
        html.push(`<h4>Error</h4>`, ...preBlock(v.error));
    return html.join('\n');
}
function outcomeOf(v) {
    const r = v.result;
    return v.error
        ? '❌ failed'
        : v.skipped
            ? '⏭️ skipped'
            : v.dryRun
                ? '🔎 dry run: nothing was changed'
                : r?.failures?.length
                    ? '⚠️ finished with failures'
                    : '✅ succeeded';
}
/** The rows about the branch: which, from where, what data, created or deleted, its URLs. */
function branchRows(v) {
    const r = v.result;
    const rows = [];
    const b = r?.branch;
    const branchName = b?.name || v.target;
    if (branchName)
        rows.push(['Branch', b?.id ? `${branchName} (${b.id})` : branchName]);
    const parent = b?.parentName ?? b?.parentId;
    if (parent)
        rows.push(['Parent', parent]);
    if (b?.pointInTime)
        rows.push(['Point in time', b.pointInTime]);
    if (r?.computeUnits)
        rows.push(['Compute', describeComputeUnits(r.computeUnits)]);
    if (r?.anonymization)
        rows.push(['Data', describeData(r.anonymization)]);
    if (r?.recreated)
        rows.push(['Re-created', describeRecreated(r.recreated.previousId)]);
    if (r?.created !== undefined && !v.dryRun && r.mode !== 'delete') {
        rows.push([
            'Created',
            r.created
                ? 'yes, by this run'
                : r.recovery
                    ? `no: recovered the branch deleted at ${r.recovery.deletedAt}; its data and URL are as they were`
                    : 'no, adopted the existing branch',
        ]);
    }
    if (v.ephemeral && !v.dryRun)
        rows.push(['Ephemeral', 'yes: the post step deletes it when the job ends']);
    if (r?.deleted !== undefined) {
        rows.push([
            'Deleted',
            r.deleted
                ? 'yes'
                : v.dryRun
                    ? 'no (dry run)'
                    : r.notDeleted
                        ? `no: ${r.notDeleted}`
                        : 'no, it was already gone',
        ]);
    }
    if (b && !v.dryRun && r?.mode !== 'delete' && b.id)
        rows.push(['Expires', b.expiresAt ?? 'never']);
    if (r?.connection)
        rows.push(['Host', r.connection.urls.host]);
    if (b?.schemaOnly)
        rows.push(['Data', SCHEMA_ONLY]);
    if (r?.authUrl !== undefined)
        rows.push(['Neon Auth', r.authUrl ?? 'not enabled on this branch']);
    if (r?.dataApiUrl !== undefined)
        rows.push(['Data API', r.dataApiUrl ?? "not enabled for the branch's database"]);
    const usage = usageRow(r?.usage, r?.mode === 'delete' && r.deleted === true);
    if (usage)
        rows.push(usage);
    return rows;
}
/** The rows about the run: the branch limit, the sweep, changes, times, requests, the comment. */
function costRows(v) {
    const r = v.result;
    const rows = [];
    const room = r?.branchLimit;
    if (room) {
        rows.push([
            'Branch limit',
            `at the limit (${room.count} of ${room.limit ?? '?'}): ${room.madeRoom.length ? '' : 'nothing deleted'}` +
                room.madeRoom.map((v) => `${v.verdict} ${v.branch} (${v.reason})`).join('; '),
        ]);
    }
    if (r?.staleBranches)
        rows.push(['Stale branches', String(r.staleBranches.length)]);
    if (r?.deletedBranches)
        rows.push(['Deleted branches', String(r.deletedBranches.length)]);
    if (r)
        rows.push(['Changes', r.changes.length ? r.changes.join('; ') : 'none']);
    if (r?.timings.readyMs !== undefined)
        rows.push(['Time to ready', summary_seconds(r.timings.readyMs)]);
    if (r) {
        rows.push(['Total time', summary_seconds(r.timings.totalMs)]);
        rows.push(['Waiting on Neon', `${summary_seconds(r.timings.wait.waitedMs)}, ${r.timings.wait.polls} polls`]);
    }
    const lock = v.neon?.lock;
    if (lock && lock.waits > 0) {
        rows.push([
            'Waited for the project lock',
            `${summary_seconds(lock.waitedMs)} (${lock.tries} ${lock.tries === 1 ? 'try' : 'tries'} refused with 423` +
                (lock.waits > 1 ? `, over ${lock.waits} requests; the longest wait ${summary_seconds(lock.longestMs)}` : '') +
                ')',
        ]);
    }
    if (v.neon)
        rows.push(['Neon API requests', `${v.neon.requests} (${v.neon.retries} retries)`]);
    if (v.github && v.github.requests > 0)
        rows.push(['GitHub API requests', String(v.github.requests)]);
    if (v.comment !== undefined)
        rows.push(['Pull request comment', commentText(v.comment)]);
    return rows;
}
/** The cleanup verdicts as a table. */
function verdictsHtml(verdicts) {
    const html = [];
    // GitHub caps a step's summary at 1 MiB: every deleted, failed or would-be-deleted branch is
    // listed, and kept ones only up to a bound, so a project of many thousands still fits.
    const acted = verdicts.filter((x) => x.verdict !== 'kept');
    const kept = verdicts.filter((x) => x.verdict === 'kept');
    const shownKept = kept.slice(0, Math.max(0, MAX_VERDICT_ROWS - acted.length));
    html.push(`<h4>Cleanup verdicts (${verdicts.length} candidate branches)</h4>`);
    html.push(table(['Branch', 'Pull request', 'Age (days)', 'Verdict', 'Reason'], [...acted, ...shownKept].map((x) => [
        `${x.branch} (${x.branchId})`,
        x.pr === undefined ? '-' : `#${x.pr}${x.prState ? ` (${x.prState})` : ''}`,
        String(x.ageDays),
        x.verdict,
        x.reason,
    ])));
    if (shownKept.length < kept.length) {
        html.push(`<p>… and ${kept.length - shownKept.length} more kept branches, not listed.</p>`);
    }
    return html;
}
/**
 * The schema diff, as the comment shows it but whole, up to {@link MAX_SUMMARY_DIFF_BYTES}; the
 * `schema_diff` output always has all of it. Escaped, in a `<pre>` block of its own (preBlock):
 * neither its blank lines nor anything in it can end the block.
 */
function schemaHtml(c) {
    const code = (s) => `<code>${escapeInline(s)}</code>`;
    const where = `${code(c.database)} on ${code(c.branch.name)}, compared with ${code(c.base.name)}`;
    if (c.tooLarge) {
        return [
            '<h4>Schema changes</h4>',
            `<p>Schema of ${where}: <b>the schemas differ, but the diff was too large to compute</b>: ${escapeHtml(tooLargeText(c.tooLarge))}</p>`,
        ];
    }
    if (c.diff === '')
        return ['<h4>Schema changes</h4>', `<p>No schema changes: ${where}.</p>`];
    const lines = escapeHtml(c.diff.replace(/\r\n?/g, '\n').replace(/\n$/, '')).split('\n');
    let bytes = 0;
    let shown = 0;
    for (const line of lines) {
        bytes += Buffer.byteLength(line, 'utf8') + 1;
        if (bytes > MAX_SUMMARY_DIFF_BYTES)
            break;
        shown++;
    }
    const counts = `${c.added.toLocaleString('en-US')} ${c.added === 1 ? 'line' : 'lines'} added, ${c.removed.toLocaleString('en-US')} removed`;
    const out = [
        '<h4>Schema changes</h4>',
        `<p>Schema of ${where}:</p>`,
        `<details open><summary><b>+${c.added.toLocaleString('en-US')} −${c.removed.toLocaleString('en-US')}</b>: ${counts} in ${code(c.database)}</summary>`,
        // Already escaped, line by line, to be measured: preBlock would escape it twice.
        '',
        `<pre lang="diff">${lines.slice(0, shown).join('\n')}</pre>`,
    ];
    if (shown < lines.length) {
        out.push(`<p>✂️ ${(lines.length - shown).toLocaleString('en-US')} of ${lines.length.toLocaleString('en-US')} diff lines are not shown (a job summary holds at most 1 MiB); the full diff is in the <code>schema_diff</code> output.</p>`);
    }
    out.push('</details>');
    return out;
}
/** Rows of the undo table at most; every branch is in the `recoverable_until` output. */
const MAX_UNDO_ROWS = 1000;
/**
 * The one-line workflow_dispatch that brings a deleted branch back: the branch by its id (unique,
 * and `[a-z0-9-]` only), every word shell-quoted.
 */
function recoverCommand(id, o) {
    return [
        'gh workflow run',
        o.workflowFile ? shellQuote(o.workflowFile) : '<workflow file>',
        ...(o.repository ? ['--repo', shellQuote(o.repository)] : []),
        '-f mode=recover',
        `-f ${shellQuote(`branch_name=${id}`)}`,
    ].join(' ');
}
/** "Undo a delete": per deleted branch, until when it can be recovered and the command that does it. */
function undoHtml(reports, o) {
    const e = escapeMarkdownHtml;
    const rows = reports
        .slice(0, MAX_UNDO_ROWS)
        .map((r) => `<tr><td>${e(r.name)} (${e(r.id)})</td><td>${e(recoverableText(r))}</td>` +
        `<td><code>${e(recoverCommand(r.id, o))}</code></td></tr>`);
    const out = [
        `<h4>Undo a delete</h4>`,
        `<p>Neon keeps a deleted branch, with its data, host and password, where it offers branch recovery ` +
            `(a preview). Reopening a pull request brings its branch back (create recovers it); any branch ` +
            `comes back with <code>mode: recover</code>:</p>`,
        `<table><tr><th>Branch</th><th>Can be recovered</th><th>Bring it back</th></tr>${rows.join('')}</table>`,
    ];
    if (reports.length > MAX_UNDO_ROWS) {
        out.push(`<p>… and ${reports.length - MAX_UNDO_ROWS} more: see the <code>recoverable_until</code> output.</p>`);
    }
    out.push(`<p>The command runs ${o.workflowFile ? `<code>${e(o.workflowFile)}</code>` : 'your workflow'}, which needs ` +
        `a <code>workflow_dispatch</code> trigger whose inputs <code>mode</code> and <code>branch_name</code> ` +
        `are passed to this action (<code>docs/recover.md</code> in the action's repository shows one).</p>`);
    return out;
}
function commentText(c) {
    if (typeof c === 'string')
        return c;
    switch (c.status) {
        case 'failed':
            return `not written (warning): ${c.error}`;
        case 'unchanged':
            return 'up to date';
        default:
            return c.removedDuplicates ? `${c.status}; ${c.removedDuplicates} duplicate(s) removed` : c.status;
    }
}
function table(head, rows) {
    const tr = (cells, tag) => `<tr>${cells.map((c) => `<${tag}>${escapeInline(c)}</${tag}>`).join('')}</tr>`;
    return `<table>${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`;
}
/**
 * Appends the summary to GITHUB_STEP_SUMMARY. A summary that cannot be written (no file outside a
 * runner, a full disk) is a warning: the work is done and the outputs are set.
 */
async function writeSummary(html) {
    if (!process.env.GITHUB_STEP_SUMMARY)
        return;
    try {
        await summary.addRaw(html, true).write();
    }
    catch (e) {
        coreLogger.warning(`Could not write the job summary: ${e.message}`);
    }
}

;// CONCATENATED MODULE: ./src/post.ts
/**
 * The post run (action.yml `runs.post`, the same bundle): the runner starts it when the job ends,
 * after success, failure or cancellation. It deletes the ephemeral branch the main step recorded,
 * and does nothing (one debug line) when main recorded none: `ephemeral` off, or main stopped
 * before it created anything.
 *
 * The record comes back as a STATE_* variable, which an earlier step of the job could also have
 * written (through $GITHUB_ENV): it is acted on only when it agrees with this step's own
 * `api_host` and `project_id` (the same inputs main had, validated again) and has the forms main
 * writes (state.ts, recordProblem), and the branch is deleted only when Neon says it carries this
 * job's key and is neither the default nor a protected branch (ephemeral-post.ts). Otherwise
 * nothing is requested or deleted, and a warning says why. It reads no other input: one that
 * depends on the time (`expires_at`) might no longer validate now.
 */











/** Throws on failure; main.ts's run() turns that into core.setFailed. */
async function runPost(o) {
    let record;
    try {
        record = readEphemeralRecord();
    }
    catch (e) {
        return refuse(o, e.message);
    }
    if (!record) {
        o.log.debug('Post step: the main step recorded no ephemeral branch (ephemeral is off, or main stopped before ' +
            'creating one): nothing to delete.');
        return;
    }
    const expected = ownInputs();
    const problem = 'problem' in expected ? expected.problem : recordProblem(record, expected);
    if (problem !== undefined) {
        return refuse(o, `the recorded ephemeral branch was not acted on: ${problem}; nothing was deleted`);
    }
    const apiKey = getInput(INPUTS.apiKey);
    if (apiKey === '') {
        throw new Error(`post step: api_key is empty, so ephemeral branch '${record.name}' cannot be deleted; it expires by ` +
            'itself, and mode: cleanup deletes it once this run has completed.');
    }
    // The post step is a step of its own, with the same `timeout` as the main step had.
    const deadline = o.clock.now() + record.timeoutMs;
    const neon = new NeonClient({
        apiKey,
        apiHost: record.apiHost,
        userAgent: o.userAgent,
        clock: o.clock,
        onSecret: o.maskSecret,
        debug: (line) => o.log.debug(line),
        info: (line) => o.log.info(line),
        deadline,
    });
    o.onClient?.(neon);
    const r = await log_group(`Delete the ephemeral branch '${record.name}'`, () => ephemeralPost({ neon, clock: o.clock, log: o.log, deadline }, record));
    o.log.info(postLine(r, neon.stats.requests));
    const html = [`<p>${escapeInline(postLine(r, neon.stats.requests))}</p>`];
    if (r.recoverable) {
        // The context is read only for the undo command; a payload that cannot be read costs only that.
        let context = {};
        try {
            context = readRunContext();
        }
        catch {
            context = { repository: process.env.GITHUB_REPOSITORY ?? '' };
        }
        html.push(...undoHtml([r.recoverable], context));
    }
    await writeSummary(html.join('\n'));
}
/**
 * This step's `api_host` and `project_id`, validated as main validated them (the runner gives the
 * post step the inputs of the main step), or why they cannot be used.
 */
function ownInputs() {
    const projectId = getInput(INPUTS.projectId);
    if (!isProjectId(projectId))
        return { problem: `this step's project_id is not a Neon project id` };
    try {
        const fail = (input, message) => {
            throw new InputError(input, message);
        };
        // The value is not echoed: this is no place to repeat what main already said about it.
        const apiHost = parseApiHost(getInput(INPUTS.apiHost) || DEFAULT_API_HOST, (input, _value, expected) => fail(input, `Invalid input '${input}'. ${expected}`), fail);
        return { apiHost, projectId };
    }
    catch (e) {
        return { problem: e.message };
    }
}
/** Nothing is deleted: a warning (the job's own result stands), and the summary says so too. */
async function refuse(o, why) {
    const line = `Post step: ${why}.`;
    o.log.warning(line);
    await writeSummary(`<p>${escapeInline(line)}</p>`);
}
/** One line for the log and the job summary. */
function postLine(r, requests) {
    const which = `'${r.name}'${r.branchId ? ` (${r.branchId})` : ''}`;
    const cost = `${(r.totalMs / 1000).toFixed(1)} s, ${requests} Neon API requests`;
    return r.deleted
        ? `Ephemeral Neon branch ${which} deleted by the post step (${r.waitedFor} operations waited for; ${cost})` +
            (r.recoverable ? `; it can be recovered ${recoverableText(r.recoverable)}.` : '.')
        : `Ephemeral Neon branch ${which} not deleted by the post step: ${r.why ?? 'nothing to delete'} (${cost}).`;
}

;// CONCATENATED MODULE: ./src/util/redact-deep.ts
/**
 * Redaction on the plain text, before any escaping: every string of a view (a mode's result, an
 * error message) passed through `redact` before it is rendered as Markdown or HTML. Redacting the
 * rendered text instead misses a secret the escaping changed (`a&b` is `a&amp;b` in HTML). Pure.
 */
function redactStrings(value, redact) {
    return walk(value, redact, 0);
}
function walk(value, redact, depth) {
    if (typeof value === 'string')
        return redact(value);
    // A view is a few levels deep; anything deeper is left as it is rather than walked for ever.
    if (depth > 32 || value === null || typeof value !== 'object')
        return value;
    if (Array.isArray(value))
        return value.map((v) => walk(v, redact, depth + 1));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null)
        return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, redact, depth + 1)]));
}

;// CONCATENATED MODULE: ./src/version.ts
/** The action's own version, sent in the User-Agent so Neon support can tell our requests apart. */
const ACTION_NAME = 'neon-preview-branch';
const ACTION_VERSION = '1.0.0';

;// CONCATENATED MODULE: ./src/main.ts































const USER_AGENT = `${ACTION_NAME}/${ACTION_VERSION} (+https://github.com/features/actions)`;
// Values shorter than this are not redacted from summaries and comments (it would garble them); no real
// key, token or generated password is that short.
const main_MIN_REDACT_LENGTH = 4;
/**
 * The action: read inputs, build clients, run the mode, publish its result (outputs, the pull
 * request comment, the job summary). The one place that calls core.setFailed. The same bundle is
 * the post step (state.ts says how it knows), which deletes an ephemeral branch (post.ts).
 */
async function run(opts = {}) {
    const clock = opts.clock ?? systemClock;
    const { maskSecret, redact } = secretMasker();
    // Mask the credentials before anything can print them, even a failed validation.
    for (const name of SECRET_INPUTS)
        maskSecret(getInput(name));
    if (isPostRun())
        return postStep(clock, maskSecret);
    const state = {};
    let stopSignals = () => { };
    try {
        // First, before anything else can fail: the post run must be able to tell it is one.
        markMainRan();
        const context = readRunContext(opts.env);
        state.context = context;
        // Validation comes before any call. An empty key is let through only on a fork's pull request,
        // which is then skipped below.
        const inputs = getInputs(undefined, () => new Date(clock.now()), {
            allowEmptyApiKey: context.pullRequest?.fromFork === true,
            ...autoModeHint(context),
        });
        state.inputs = inputs;
        const choice = inputs.mode === 'auto' ? chooseAutoMode(context) : undefined;
        const mode = choice?.mode ?? inputs.mode;
        state.mode = mode;
        state.autoBecause = choice?.because;
        refuseCreateOnClosed(mode, inputs.ephemeral, context);
        coreLogger.info(`Mode: ${mode}${choice ? ` (chosen by mode: auto for the '${choice.because}' event)` : ''}`);
        if (inputs.apiKey === '') {
            await skipFork(state, context);
            return;
        }
        if (mode !== 'cleanup')
            state.target = resolveBranchName(inputs, context);
        // An ephemeral create stops waiting on SIGINT/SIGTERM (the runner cancelling the job); what it
        // created is already recorded for the post step, which deletes it.
        const ephemeral = inputs.ephemeral && mode === 'create' && !inputs.dryRun;
        const cancellation = ephemeral ? cancellable(clock) : undefined;
        if (cancellation)
            stopSignals = onSignals(cancellation);
        const deps = modeDeps(state, inputs, context, clock, cancellation, maskSecret);
        if (ephemeral)
            deps.ephemeral = stateRecorder(inputs);
        const result = await runMode(mode, deps, inputs);
        await publish(state, clock, redact, maskSecret, result);
    }
    catch (e) {
        await reportFailure(state, clock, redact, e);
    }
    finally {
        stopSignals();
    }
}
/**
 * `maskSecret` masks a value in the log, in its raw and its percent-encoded form (the form a URL
 * carries), and remembers it; `redact` scrubs every value remembered from a text, longest first.
 */
function secretMasker() {
    const secrets = new Set();
    const maskSecret = (value) => {
        if (!value)
            return;
        for (const form of new Set([value, encodeURIComponent(value)])) {
            core_setSecret(form);
            secrets.add(form);
        }
    };
    // Masking only hides values in the log; the comment and the summary are written as they are, so
    // whatever text reaches them is scrubbed of every secret seen, longest first.
    const redact = (text) => [...secrets]
        .filter((x) => x.length >= main_MIN_REDACT_LENGTH)
        .sort((a, b) => b.length - a.length)
        .reduce((acc, x) => acc.split(x).join('***'), text);
    return { maskSecret, redact };
}
/** The post step (post.ts): deletes an ephemeral branch; a failure fails the step. */
async function postStep(clock, maskSecret) {
    let neon;
    try {
        await runPost({
            clock,
            userAgent: USER_AGENT,
            log: coreLogger,
            maskSecret,
            onClient: (n) => (neon = n),
        });
    }
    catch (e) {
        if (e instanceof Error && e.stack)
            core_debug(logLines(e.stack));
        const requests = neon ? `\n(${neon.stats.requests} Neon API requests, ${neon.stats.retries} retried)` : '';
        setFailed(logLines(`${e instanceof Error ? e.message : String(e)}${requests}`));
    }
}
/** What the mode gets: the Neon client, the clock, and the GitHub look-ups when there is a token. */
function modeDeps(state, inputs, context, clock, cancellation, maskSecret) {
    // One deadline for everything the step does: every wait, every retry and Retry-After, the
    // project lock, every delete of a sweep.
    const deadline = clock.now() + inputs.timeoutMs;
    state.deadline = deadline;
    const neon = new NeonClient({
        apiKey: inputs.apiKey,
        apiHost: inputs.apiHost,
        userAgent: USER_AGENT,
        clock: cancellation?.clock ?? clock,
        onSecret: maskSecret,
        debug: coreLogger.debug,
        info: coreLogger.info,
        deadline,
        ...(cancellation ? { cancelled: () => cancellation.reason } : {}),
    });
    state.neon = neon;
    const deps = {
        neon,
        clock: cancellation?.clock ?? clock,
        context,
        log: coreLogger,
        setSecret: maskSecret,
        deadline,
    };
    // For cleanup: pull request and workflow run states. Built here, they make no request (and do
    // not load Octokit) until a mode asks.
    if (inputs.githubToken && context.repository) {
        const octokit = () => github(state, inputs, context);
        const pullsApi = {
            rest: {
                pulls: {
                    get: async (p) => (await octokit()).rest.pulls.get(p),
                    list: async (p) => (await octokit()).rest.pulls.list(p),
                },
            },
        };
        const runsApi = {
            rest: {
                actions: {
                    getWorkflowRun: async (p) => (await octokit()).rest.actions.getWorkflowRun(p),
                    listWorkflowRunsForRepo: async (p) => (await octokit()).rest.actions.listWorkflowRunsForRepo(p),
                },
            },
        };
        deps.pulls = restPullLookup(pullsApi, context.repository);
        deps.runs = restRunLookup(runsApi, context.repository);
    }
    return deps;
}
/** Outputs, the changes in the log, the comment and the summary; failed steps fail the run. */
async function publish(state, clock, redact, maskSecret, result) {
    state.reporting = true;
    publishOutputs(result, maskSecret);
    for (const change of result.changes)
        coreLogger.info(`${state.inputs?.dryRun ? 'Dry run' : 'Changed'}: ${change}`);
    const comment = await updateComment(state, clock, redact, statusOf(result), { result });
    // Redacted on the plain text (before escaping), and the rendered text again besides.
    await writeSummary(redact(renderSummary(redactStrings({ ...summaryBase(state, comment), result }, redact))));
    if (result.failures?.length) {
        setFailed(logLines(`${state.mode} finished, but ${result.failures.length} of its steps failed:\n- ${result.failures.join('\n- ')}`));
    }
}
/** Fails the step with the whole message, and tells the comment and the summary its public form. */
async function reportFailure(state, clock, redact, e) {
    state.reporting = true;
    const message = describeFailure(e, state.neon, state.inputs?.ephemeral === true);
    setFailed(logLines(message));
    // The comment and the summary get the public form of the message: without what Neon marks
    // x-sensitive (the status message of a failed masking can name masked columns).
    const shown = publicForm(e, message);
    try {
        // Before Neon has taken the key and the project, the run knows no branch: a comment would be
        // one no later run finds (its marker holds the wrong project) and stays on the pull request.
        const comment = failedBeforeBranch(e)
            ? 'not written: the run failed before it knew the branch (the log and this summary carry the error)'
            : await updateComment(state, clock, redact, 'failed', { error: redact(shown) });
        await writeSummary(redact(renderSummary(redactStrings({ ...summaryBase(state, comment), error: shown }, redact))));
    }
    catch (e2) {
        coreLogger.warning(`Could not report the failure in the comment or summary: ${e2.message}`);
    }
}
/** A bad input, a key Neon refuses (401), a project it does not know (404): no branch is known yet. */
function failedBeforeBranch(e) {
    return e instanceof InputError || isAuthFailure(e) || isProjectNotFound(e);
}
/**
 * The first SIGINT or SIGTERM stops every wait (the runner sends SIGINT, then SIGTERM about 7.5 s
 * later, then kills the step); a second one exits at once: everything worth keeping is already in
 * the state file. Returns the function that removes the handlers.
 */
function onSignals(cancellation) {
    const handler = (signal) => {
        if (cancellation.reason !== undefined) {
            warning(`${signal} again: exiting now. The post step deletes what this step created.`);
            process.exit(1);
        }
        warning(`${signal}: the job is being cancelled. Stopping; the post step deletes what this step created.`);
        cancellation.cancel(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
    };
}
/** Records, through core.saveState, what the post step must delete, each time create learns more. */
function stateRecorder(inputs) {
    let record;
    const save = (r) => {
        record = r;
        saveEphemeralRecord(r);
    };
    return {
        creating: (name, key) => save({ projectId: inputs.projectId, apiHost: inputs.apiHost, name, key, timeoutMs: inputs.timeoutMs }),
        created: (branch, operationIds) => {
            if (record)
                save({ ...record, name: branch.name, branchId: branch.id, operationIds });
        },
        nothing: () => save(undefined),
    };
}
/**
 * Fork pull requests get no secrets under `pull_request`: there is nothing to do, and failing every
 * contributor's pull request would be worse. No Neon request and no GitHub request is made.
 */
async function skipFork(state, context) {
    const pr = context.pullRequest;
    const why = `pull request #${pr?.number ?? '?'} comes from a fork (${pr?.headRepo ?? 'a deleted repository'}), ` +
        `and GitHub gives no secrets to pull_request runs from forks, so api_key is empty`;
    coreLogger.notice(`Skipping: ${why}. No Neon branch was created or changed. To give fork pull requests a branch, ` +
        `run on pull_request_target with care (it runs with secrets), or review and re-run from a branch ` +
        `of this repository.`);
    setOutput(OUTPUTS.skipped, 'true');
    await writeSummary(renderSummary({ mode: state.mode, autoBecause: state.autoBecause, skipped: why }));
}
/** `auto` is resolved by chooseAutoMode; this runs a concrete mode. */
async function runMode(mode, deps, inputs) {
    switch (mode) {
        case 'create':
            return log_group(`Create or adopt the preview branch`, () => createMode(deps, inputs));
        case 'reset':
            return log_group('Reset the preview branch', () => resetMode(deps, inputs));
        case 'delete':
            return log_group('Delete the preview branch', () => deleteMode(deps, inputs));
        case 'cleanup':
            return log_group('Sweep stale preview branches', () => cleanupMode(deps, inputs));
        case 'schema-diff':
            return log_group('Compare the schema with the parent', () => schemaDiffMode(deps, inputs));
        case 'recover':
            return log_group('Recover the deleted branch', () => recoverMode(deps, inputs));
    }
}
/**
 * The GitHub client, built once and only when something needs it. Octokit and its plugins are
 * loaded here, not at start-up: most runs need them only for the comment, after the Neon work, and
 * evaluating them delayed the first Neon request (issue 17). The import stays in the one bundle
 * (webpackMode "eager": no chunk file, the module is evaluated on first use only).
 */
function github(state, inputs, context) {
    state.githubLoading ??= Promise.resolve(/* import() eager */).then(__nccwpck_require__.bind(__nccwpck_require__, 100)).then(({ createGitHubClient }) => {
        state.github = createGitHubClient({
            token: inputs.githubToken,
            baseUrl: context.apiUrl,
            userAgent: USER_AGENT,
            log: { debug: coreLogger.debug, warning: coreLogger.warning },
            ...(state.deadline !== undefined ? { deadline: () => githubDeadline(state) } : {}),
        });
        return state.github.octokit;
    });
    return state.githubLoading;
}
/** When GitHub requests stop: the step's deadline, plus the report's one grace (deadline.ts). */
function githubDeadline(state) {
    return (state.deadline ?? Infinity) + (state.reporting ? deadline/* REPORT_GRACE_MS */.nN : 0);
}
/**
 * Keeps the pull request comment up to date, when there is one to keep: on a pull request event,
 * with `comment: true`, for create, reset, delete and schema-diff, not in a dry run (schema-diff
 * changes nothing, so it writes its section in a dry run too). Returns what happened, or why
 * nothing was written; never throws.
 */
async function updateComment(state, clock, redact, status, content) {
    const { inputs, context, mode, target } = state;
    const pr = context?.pullRequest;
    if (!inputs || !context || !pr || !mode || target === undefined)
        return undefined;
    if (!inputs.comment)
        return 'off (comment: false)';
    if (mode === 'cleanup')
        return undefined;
    if (inputs.dryRun && mode !== 'schema-diff')
        return 'not written in a dry run';
    if (!inputs.githubToken) {
        coreLogger.warning(`No github_token: the pull request comment was not written.`);
        return 'not written: no github_token';
    }
    // Rendered against the comment as it stands, so the sections this run does not own are kept.
    const body = (existing) => redact(renderComment({
        status,
        projectId: inputs.projectId,
        target,
        mode,
        ...redactStrings(content, redact),
        context,
        now: clock.now(),
        producer: `${ACTION_NAME} ${ACTION_VERSION}`,
        ...(existing !== undefined ? { existing } : {}),
    }));
    return log_group('Update the pull request comment', async () => upsertStickyComment({
        octokit: await github(state, inputs, context),
        repository: pr.baseRepo ?? context.repository,
        issueNumber: pr.number,
        marker: commentMarker(inputs.projectId, target),
        body,
        log: coreLogger,
    }));
}
function summaryBase(state, comment) {
    return {
        mode: state.mode,
        autoBecause: state.autoBecause,
        target: state.target,
        dryRun: state.inputs?.dryRun,
        ...(state.inputs?.ephemeral ? { ephemeral: true } : {}),
        ...(state.context?.repository ? { repository: state.context.repository } : {}),
        ...(state.context?.workflowFile ? { workflowFile: state.context.workflowFile } : {}),
        ...(state.neon ? { neon: state.neon.stats } : {}),
        ...(state.github ? { github: state.github.stats } : {}),
        ...(comment !== undefined ? { comment } : {}),
    };
}
function publishOutputs(r, maskSecret) {
    const set = (name, value) => {
        if (value !== undefined)
            setOutput(name, typeof value === 'boolean' ? String(value) : value);
    };
    if (r.connection) {
        // Masked already at receipt; again here so no output can ever be set unmasked.
        maskSecret(r.connection.password);
        maskSecret(r.connection.urls.dbUrl);
        maskSecret(r.connection.urls.dbUrlPooled);
    }
    set(OUTPUTS.branchId, r.branch?.id);
    set(OUTPUTS.branchName, r.branch?.name);
    set(OUTPUTS.expiresAt, r.branch ? (r.branch.expiresAt ?? '') : undefined);
    set(OUTPUTS.created, r.created);
    set(OUTPUTS.recovered, r.recovered);
    set(OUTPUTS.dbUrl, r.connection?.urls.dbUrl);
    set(OUTPUTS.dbUrlPooled, r.connection?.urls.dbUrlPooled);
    set(OUTPUTS.dbHost, r.connection?.urls.host);
    set(OUTPUTS.dbHostPooled, r.connection?.urls.hostPooled);
    set(OUTPUTS.password, r.connection?.password);
    set(OUTPUTS.role, r.connection?.role);
    set(OUTPUTS.database, r.connection?.database);
    set(OUTPUTS.endpointId, r.connection?.endpointId);
    set(OUTPUTS.computeUnits, r.computeUnits ? formatComputeUnits(r.computeUnits) : undefined);
    if (r.connection) {
        set(OUTPUTS.parentLsn, r.branch?.parentLsn ?? '');
        set(OUTPUTS.parentTimestamp, r.branch?.parentTimestamp ?? '');
    }
    if (r.connection)
        set(OUTPUTS.anonymized, r.anonymization !== undefined);
    if (r.anonymization?.maskedColumns !== undefined)
        set(OUTPUTS.maskedColumns, String(r.anonymization.maskedColumns));
    // Asked for and not enabled on the branch: empty, as Neon's create-branch-action leaves it.
    if (r.authUrl !== undefined)
        set(OUTPUTS.authUrl, r.authUrl ?? '');
    if (r.dataApiUrl !== undefined)
        set(OUTPUTS.dataApiUrl, r.dataApiUrl ?? '');
    set(OUTPUTS.deleted, r.deleted);
    if (r.deletedBranches)
        set(OUTPUTS.deletedBranches, JSON.stringify(r.deletedBranches));
    if (r.recoverable)
        set(OUTPUTS.recoverableUntil, recoverableUntilOutput(r.recoverable));
    if (r.staleBranches)
        set(OUTPUTS.staleBranches, JSON.stringify(r.staleBranches));
    if (r.usage)
        set(OUTPUTS.usage, JSON.stringify(r.usage));
    if (r.freed)
        set(OUTPUTS.freed, JSON.stringify(r.freed.total));
    set(OUTPUTS.skipped, r.skipped ?? false);
    if (r.schema) {
        set(OUTPUTS.schemaDiff, r.schema.diff);
        set(OUTPUTS.schemaChanged, r.schema.diff !== '' || r.schema.tooLarge !== undefined);
    }
}
/**
 * `mode: auto`'s choice, when the event makes one, for getInputs (which then reads a rules file
 * only where a branch is made). An event auto cannot map fails later, in the same words.
 */
function autoModeHint(context) {
    try {
        return { autoMode: chooseAutoMode(context).mode };
    }
    catch {
        return {};
    }
}
/**
 * The message with every part that must not be public replaced by its public form: an error in
 * the chain that carries a `publicMessage` (AnonymizationFailedError) has its message swapped.
 */
function publicForm(e, message) {
    let out = message;
    const seen = new Set();
    for (let x = e; x instanceof Error && !seen.has(x); x = x.cause) {
        seen.add(x);
        const pub = x.publicMessage;
        if (typeof pub === 'string')
            out = out.split(x.message).join(pub);
    }
    return out;
}
/** One readable message: what failed, Neon's answer, the request id, and what was already changed. */
function describeFailure(e, neon, ephemeral = false) {
    if (e instanceof InputError)
        return e.message;
    let message = e instanceof Error ? e.message : String(e);
    // A wrong key or project: which input, and where to check it.
    const advice = adviceFor(e);
    if (advice)
        message += `\n${advice}`;
    if (e instanceof Error && e.stack)
        core_debug(logLines(e.stack));
    if (e instanceof ModeError && e.changes.length > 0) {
        message +=
            `\nAlready done in Neon before the failure: ${e.changes.join('; ')}. ` +
                (ephemeral
                    ? `The post step deletes the branch when the job ends.`
                    : `Re-running the job adopts what exists and finishes the rest.`);
    }
    if (neon)
        message += `\n(${neon.stats.requests} Neon API requests, ${neon.stats.retries} retried)`;
    return message;
}


/***/ }),

/***/ 613:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("assert");

/***/ }),

/***/ 434:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("events");

/***/ }),

/***/ 611:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("http");

/***/ }),

/***/ 692:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("https");

/***/ }),

/***/ 278:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("net");

/***/ }),

/***/ 756:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("tls");

/***/ }),

/***/ 23:
/***/ ((module) => {

module.exports = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("util");

/***/ }),

/***/ 919:
/***/ ((__unused_webpack_module, exports) => {

var __webpack_unused_export__;

/*!
 * content-type
 * Copyright(c) 2015 Douglas Christopher Wilson
 * MIT Licensed
 */
__webpack_unused_export__ = ({ value: true });
__webpack_unused_export__ = format;
exports.qg = parse;
const TEXT_REGEXP = /^[\u0009\u0020-\u007e\u0080-\u00ff]*$/;
const TOKEN_REGEXP = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * RegExp to match chars that must be quoted-pair in RFC 9110 sec 5.6.4
 */
const QUOTE_REGEXP = /[\\"]/g;
/**
 * RegExp to match type in RFC 9110 sec 8.3.1
 *
 * media-type = type "/" subtype
 * type       = token
 * subtype    = token
 */
const TYPE_REGEXP = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * Null object perf optimization. Faster than `Object.create(null)` and `{ __proto__: null }`.
 */
const NullObject = /* @__PURE__ */ (() => {
    const C = function () { };
    C.prototype = Object.create(null);
    return C;
})();
/**
 * Format an object into a `Content-Type` header.
 */
function format(obj) {
    const { type, parameters } = obj;
    if (!type || !TYPE_REGEXP.test(type)) {
        throw new TypeError(`Invalid type: ${type}`);
    }
    let result = type;
    if (parameters) {
        for (const param of Object.keys(parameters)) {
            if (!TOKEN_REGEXP.test(param)) {
                throw new TypeError(`Invalid parameter name: ${param}`);
            }
            result += `; ${param}=${qstring(parameters[param])}`;
        }
    }
    return result;
}
/**
 * Parse a `Content-Type` header.
 */
function parse(header, options) {
    const stopChar = options?.comma === true ? COMMA : 65536; // Sentinel for "no stop char".
    const len = header.length;
    let index = skipOWS(header, options?.start ?? 0, len);
    const valueStart = index;
    index = skipValue(header, index, len, stopChar);
    const valueEnd = trailingOWS(header, valueStart, index);
    const type = header.slice(valueStart, valueEnd).toLowerCase();
    if (options?.parameters === false) {
        return { type, index, parameters: new NullObject() };
    }
    return parseParameters(header, type, index, len, stopChar);
}
const SP = 32; // " "
const HTAB = 9; // "\t"
const SEMI = 59; // ";"
const EQ = 61; // "="
const DQUOTE = 34; // '"'
const BSLASH = 92; // "\\"
const COMMA = 44; // ","
/**
 * Parses the parameters of a `Content-Type` header starting at the given index.
 */
function parseParameters(header, type, index, len, stopChar) {
    const parameters = new NullObject();
    parameter: while (index < len) {
        if (header.charCodeAt(index) === stopChar)
            break;
        index = skipOWS(header, index + 1 /* Skip over ; */, len);
        const keyStart = index;
        while (index < len) {
            const code = header.charCodeAt(index);
            if (code === stopChar)
                break parameter;
            if (code === SEMI)
                continue parameter;
            if (code === EQ) {
                const keyEnd = trailingOWS(header, keyStart, index);
                const key = header.slice(keyStart, keyEnd).toLowerCase();
                index = skipOWS(header, index + 1, len);
                if (index < len && header.charCodeAt(index) === DQUOTE) {
                    index++;
                    let value = "";
                    while (index < len) {
                        const code = header.charCodeAt(index++);
                        if (code === DQUOTE) {
                            index = skipValue(header, index, len, stopChar);
                            if (parameters[key] === undefined)
                                parameters[key] = value;
                            break;
                        }
                        if (code === BSLASH && index < len) {
                            value += header[index++];
                            continue;
                        }
                        value += String.fromCharCode(code);
                    }
                    continue parameter;
                }
                const valueStart = index;
                index = skipValue(header, index, len, stopChar);
                if (parameters[key] === undefined) {
                    const valueEnd = trailingOWS(header, valueStart, index);
                    parameters[key] = header.slice(valueStart, valueEnd);
                }
                continue parameter;
            }
            index++;
        }
    }
    return { type, index, parameters };
}
/**
 * Skip over characters until a semicolon or other exit character.
 */
function skipValue(str, index, len, stopChar) {
    while (index < len) {
        const code = str.charCodeAt(index);
        if (code === SEMI || code === stopChar)
            break;
        index++;
    }
    return index;
}
/**
 * Skip optional whitespace (OWS) in an HTTP header value.
 *
 * OWS is defined in RFC 9110 sec 5.6.3 as SP (" ") or HTAB ("\t").
 */
function skipOWS(header, index, len) {
    while (index < len) {
        const char = header.charCodeAt(index);
        if (char !== SP && char !== HTAB)
            break;
        index++;
    }
    return index;
}
/**
 * Trim optional whitespace (OWS) from the end of a substring.
 *
 * OWS is defined in RFC 9110 sec 5.6.3 as SP (" ") or HTAB ("\t").
 */
function trailingOWS(header, start, end) {
    while (end > start) {
        const char = header.charCodeAt(end - 1);
        if (char !== SP && char !== HTAB)
            break;
        end--;
    }
    return end;
}
/**
 * Serialize a parameter value.
 */
function qstring(str) {
    if (TOKEN_REGEXP.test(str))
        return str;
    if (TEXT_REGEXP.test(str))
        return `"${str.replace(QUOTE_REGEXP, "\\$&")}"`;
    throw new TypeError(`Invalid parameter value: ${str}`);
}
//# sourceMappingURL=index.js.map

/***/ })

/******/ });
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId].call(module.exports, module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/async module */
/******/ (() => {
/******/ 	var webpackQueues = typeof Symbol === "function" ? Symbol("webpack queues") : "__webpack_queues__";
/******/ 	var webpackExports = typeof Symbol === "function" ? Symbol("webpack exports") : "__webpack_exports__";
/******/ 	var webpackError = typeof Symbol === "function" ? Symbol("webpack error") : "__webpack_error__";
/******/ 	var resolveQueue = (queue) => {
/******/ 		if(queue && queue.d < 1) {
/******/ 			queue.d = 1;
/******/ 			queue.forEach((fn) => (fn.r--));
/******/ 			queue.forEach((fn) => (fn.r-- ? fn.r++ : fn()));
/******/ 		}
/******/ 	}
/******/ 	var wrapDeps = (deps) => (deps.map((dep) => {
/******/ 		if(dep !== null && typeof dep === "object") {
/******/ 			if(dep[webpackQueues]) return dep;
/******/ 			if(dep.then) {
/******/ 				var queue = [];
/******/ 				queue.d = 0;
/******/ 				dep.then((r) => {
/******/ 					obj[webpackExports] = r;
/******/ 					resolveQueue(queue);
/******/ 				}, (e) => {
/******/ 					obj[webpackError] = e;
/******/ 					resolveQueue(queue);
/******/ 				});
/******/ 				var obj = {};
/******/ 				obj[webpackQueues] = (fn) => (fn(queue));
/******/ 				return obj;
/******/ 			}
/******/ 		}
/******/ 		var ret = {};
/******/ 		ret[webpackQueues] = x => {};
/******/ 		ret[webpackExports] = dep;
/******/ 		return ret;
/******/ 	}));
/******/ 	__nccwpck_require__.a = (module, body, hasAwait) => {
/******/ 		var queue;
/******/ 		hasAwait && ((queue = []).d = -1);
/******/ 		var depQueues = new Set();
/******/ 		var exports = module.exports;
/******/ 		var currentDeps;
/******/ 		var outerResolve;
/******/ 		var reject;
/******/ 		var promise = new Promise((resolve, rej) => {
/******/ 			reject = rej;
/******/ 			outerResolve = resolve;
/******/ 		});
/******/ 		promise[webpackExports] = exports;
/******/ 		promise[webpackQueues] = (fn) => (queue && fn(queue), depQueues.forEach(fn), promise["catch"](x => {}));
/******/ 		module.exports = promise;
/******/ 		body((deps) => {
/******/ 			currentDeps = wrapDeps(deps);
/******/ 			var fn;
/******/ 			var getResult = () => (currentDeps.map((d) => {
/******/ 				if(d[webpackError]) throw d[webpackError];
/******/ 				return d[webpackExports];
/******/ 			}))
/******/ 			var promise = new Promise((resolve) => {
/******/ 				fn = () => (resolve(getResult));
/******/ 				fn.r = 0;
/******/ 				var fnQueue = (q) => (q !== queue && !depQueues.has(q) && (depQueues.add(q), q && !q.d && (fn.r++, q.push(fn))));
/******/ 				currentDeps.map((dep) => (dep[webpackQueues](fnQueue)));
/******/ 			});
/******/ 			return fn.r ? promise : getResult();
/******/ 		}, (err) => ((err ? reject(promise[webpackError] = err) : outerResolve(exports)), resolveQueue(queue)));
/******/ 		queue && queue.d < 0 && (queue.d = 0);
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/compat get default export */
/******/ (() => {
/******/ 	// getDefaultExport function for compatibility with non-harmony modules
/******/ 	__nccwpck_require__.n = (module) => {
/******/ 		var getter = module && module.__esModule ?
/******/ 			() => (module['default']) :
/******/ 			() => (module);
/******/ 		__nccwpck_require__.d(getter, { a: getter });
/******/ 		return getter;
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/******/ /* webpack/runtime/make namespace object */
/******/ (() => {
/******/ 	// define __esModule on exports
/******/ 	__nccwpck_require__.r = (exports) => {
/******/ 		if(typeof Symbol !== 'undefined' && Symbol.toStringTag) {
/******/ 			Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
/******/ 		}
/******/ 		Object.defineProperty(exports, '__esModule', { value: true });
/******/ 	};
/******/ })();
/******/ 
/************************************************************************/
/******/ 
/******/ // startup
/******/ // Load entry module and return exports
/******/ // This entry module used 'module' so it can't be inlined
/******/ var __webpack_exports__ = __nccwpck_require__(407);
/******/ __webpack_exports__ = await __webpack_exports__;
/******/ 
