// The dashboard's behaviour: draw every chart from the embedded JSON, switch
// the scope of the equity charts, and run the what-if calculator. Nothing here
// fetches anything. window.dashboard.ready resolves when every chart has drawn
// (window.dashboard.readyAt: milliseconds since navigation start).
(function () {
  "use strict";
  var startedAt = performance.now(); // plotly.js is parsed and run by now
  var payload = JSON.parse(document.getElementById("dashboard-data").textContent);
  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"],
  };
  var symbol = payload.symbol;

  function decimals(n) {
    return new Intl.NumberFormat("en-US", { minimumFractionDigits: n, maximumFractionDigits: n });
  }
  var two = decimals(2);
  var four = decimals(4);

  // -$1,234.57, as clv.dashboard.formatting.format_money(value, decimals=2).
  function money(value) {
    var rounded = Math.round(Math.abs(value) * 100) / 100;
    var sign = value < 0 && rounded !== 0 ? "-" : "";
    return sign + symbol + two.format(Math.abs(value));
  }

  // clv.formulas.discounted_clv, term for term (tests/test_dashboard_browser.py holds the two equal):
  // CLV = sum over t = 1..N of (p*s*m - c) * r^t / (1 + d)^t  -  c / a
  function discountedClv(p, s, m, c, a, r, d, n) {
    var annualMargin = p * s * m - c;
    var acquisitionCost = c / a;
    var cumulative = -acquisitionCost;
    var rows = [];
    for (var t = 1; t <= n; t++) {
      var survival = Math.pow(r, t);
      var discountFactor = 1 / Math.pow(1 + d, t);
      var contribution = annualMargin * survival * discountFactor;
      cumulative += contribution;
      rows.push({
        year: t,
        survival: survival,
        discount_factor: discountFactor,
        expected_contribution: contribution,
        cumulative_clv: cumulative,
      });
    }
    return {
      annual_margin_per_customer: annualMargin,
      acquisition_cost: acquisitionCost,
      rows: rows,
      clv: cumulative,
    };
  }

  function showSlider(input) {
    var value = parseFloat(input.value);
    var out = document.getElementById("value-" + input.name);
    var kind = input.dataset.kind;
    out.textContent =
      kind === "percent"
        ? decimals(0).format(Math.round(value * 100)) + " %"
        : kind === "money"
          ? symbol + decimals(0).format(value)
          : String(value);
  }

  function calculate() {
    var form = document.getElementById("calculator");
    if (!form) return;
    var v = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[type=range]"), function (input) {
      v[input.name] = parseFloat(input.value);
      showSlider(input);
    });
    var result = discountedClv(
      v.purchases_per_year, v.spend_per_purchase, v.gross_margin, v.marketing_cost,
      v.acquisition_rate, v.retention_rate, v.discount_rate, Math.round(v.years)
    );
    var clv = document.getElementById("clv-value");
    clv.textContent = money(result.clv);
    clv.dataset.value = String(result.clv);
    var body = document.querySelector("#clv-table tbody");
    body.innerHTML = "";
    result.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.dataset.cumulative = String(row.cumulative_clv);
      tr.dataset.contribution = String(row.expected_contribution);
      [String(row.year), four.format(row.survival), four.format(row.discount_factor),
        money(row.expected_contribution), money(row.cumulative_clv)].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function showScopeNote(key) {
    var note = document.getElementById("chart-equity-note");
    if (!note) return;
    var text = (payload.scope.notes || {})[key];
    note.textContent = text || "";
    note.hidden = !text;
  }

  function setScope(key) {
    var draws = [];
    ["equity", "customers"].forEach(function (name) {
      var figure = payload.scope[name][key];
      var div = document.getElementById("chart-" + name);
      if (figure && div) draws.push(Plotly.react(div, figure.data, figure.layout, config));
    });
    showScopeNote(key);
    return Promise.all(draws);
  }

  var draws = [];
  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), function (div) {
    var figure = payload.figures[div.id];
    draws.push(Plotly.newPlot(div, figure.data, figure.layout, config));
  });
  var select = document.getElementById("scope");
  if (select) {
    select.addEventListener("change", function () { setScope(select.value); });
    showScopeNote(select.value);
  }
  var form = document.getElementById("calculator");
  if (form) {
    form.addEventListener("input", calculate);
    calculate();
  }
  window.dashboard = {
    startedAt: startedAt,
    discountedClv: discountedClv,
    setScope: setScope,
    ready: Promise.all(draws).then(function () {
      window.dashboard.readyAt = performance.now();
      document.body.dataset.chartsDrawn = String(draws.length);
      return draws.length;
    }),
  };
})();
