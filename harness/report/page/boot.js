(function () {
  var charts = JSON.parse(document.getElementById('fanout-chart-specs').textContent);
  var done = charts.map(function (chart) {
    var container = document.getElementById('chart-' + chart.id);
    var figure = document.getElementById('figure-' + chart.id);
    return vegaEmbed(container, chart.spec, { renderer: 'svg', actions: false, ast: true, tooltip: { theme: 'light' } })
      .then(function () {
        var fallback = figure.querySelector('.chart-fallback');
        if (fallback) fallback.remove();
        figure.classList.add('rendered');
      })
      .catch(function (error) {
        figure.classList.add('failed');
        console.error('Chart "' + chart.id + '" could not be drawn: ' + (error && error.message ? error.message : error));
      });
  });
  Promise.all(done).then(function () {
    document.body.setAttribute('data-charts-done', String(charts.length));
  });
})();
