// leds: this site's Content-Security-Policy allows style sheets from files only (style-src
// 'self'). Some vendored libraries (cytoscape.js, vis-timeline's standalone build) insert
// <style> elements, which the browser would refuse with a console error each time; their
// styles are loaded as files instead (screens.css, vis-timeline-graph2d.min.css), so such
// insertions into <head> are dropped here. Load before those libraries.
(function () {
  "use strict";
  var head = document.head;
  if (!head) { return; }
  var append = head.appendChild;
  var before = head.insertBefore;
  head.appendChild = function (node) {
    return node instanceof HTMLStyleElement ? node : append.call(head, node);
  };
  head.insertBefore = function (node, ref) {
    return node instanceof HTMLStyleElement ? node : before.call(head, node, ref);
  };
})();
