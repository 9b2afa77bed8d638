// The IPv4 map viewer: a slider (arrow keys, Home, End), previous and
// next buttons and a play button switch between the map frames. Without
// JavaScript every frame stays visible, one under the other.
(function () {
  "use strict";
  var frames = Array.prototype.slice.call(document.querySelectorAll(".map-frame"));
  var controls = document.getElementById("map-controls");
  if (frames.length < 2 || !controls) {
    return;
  }
  var slider = document.getElementById("map-slider");
  var out = document.getElementById("map-time");
  var play = document.getElementById("map-play");
  var timer = null;

  function show(i) {
    var n = frames.length;
    i = ((i % n) + n) % n;
    frames.forEach(function (f, k) {
      f.hidden = k !== i;
    });
    slider.value = String(i);
    var label = frames[i].getAttribute("data-label") || "";
    out.textContent = label;
    slider.setAttribute("aria-valuetext", label);
  }

  function stop() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }

  slider.addEventListener("input", function () {
    stop();
    show(Number(slider.value));
  });
  document.getElementById("map-prev").addEventListener("click", function () {
    stop();
    show(Number(slider.value) - 1);
  });
  document.getElementById("map-next").addEventListener("click", function () {
    stop();
    show(Number(slider.value) + 1);
  });
  play.addEventListener("click", function () {
    if (timer !== null) {
      stop();
      return;
    }
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    timer = window.setInterval(function () {
      show(Number(slider.value) + 1);
    }, 1200);
  });

  controls.hidden = false;
  show(0);
})();
