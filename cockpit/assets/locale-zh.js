// Chinese month and day names for the charts (plotly.js) and the date pickers (dash's, which
// format with date-fns), registered only when the page is in Chinese (<html lang="zh-CN">,
// set by the server from the reader's language). Written here so nothing loads from a CDN.
(function () {
  if (!(document.documentElement.lang || "").startsWith("zh")) { return; }
  var days = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];
  var shortDays = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];
  var narrowDays = ["日", "一", "二", "三", "四", "五", "六"];
  var months = ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"];
  var numberedMonths = months.map(function (_, i) { return (i + 1) + "月"; });

  // plotly.js: picked up from window.PlotlyLocales when plotly loads (dash loads it lazily).
  // The dictionary is keyed by plotly's own English (its mode bar's tooltips and notices, as
  // plotly.js 4 writes them); the formats give its date ticks the Chinese order (11月8日).
  var plotly = {
    moduleType: "locale", name: "zh-CN",
    dictionary: {"Autoscale": "自动缩放", "Box Select": "框选", "Lasso Select": "套索选择",
                 "Download plot as a PNG": "下载图片", "Download plot": "下载图片", "Download plot as JSON": "下载 JSON 数据",
                 "Preparing image - this may take a few seconds": "正在生成图片，请稍候",
                 "Image download succeeded": "图片已下载",
                 "Sorry, there was a problem downloading your image!": "图片下载失败",
                 "Pan": "平移", "Reset axes": "重置坐标轴", "Reset view": "重置视图", "Reset views": "重置视图",
                 "Zoom": "缩放", "Zoom in": "放大", "Zoom out": "缩小", "Double-click to zoom back out": "双击还原",
                 "Toggle Spike Lines": "显示或隐藏参考线", "Show closest data on hover": "悬停显示最近的数据",
                 "Compare data on hover": "悬停比较数据", "Produced with Plotly.js": "由 Plotly.js 生成"},
    format: {days: days, shortDays: shortDays, months: months, shortMonths: numberedMonths, date: "%Y-%m-%d",
             year: "%Y年", month: "%Y年%-m月", dayMonth: "%-m月%-d日", dayMonthYear: "%Y年%-m月%-d日"}
  };
  if (window.Plotly && window.Plotly.register) { window.Plotly.register(plotly); }
  else { (window.PlotlyLocales = window.PlotlyLocales || []).push(plotly); }

  // date-fns, as dash's date pickers look it up: window.dateFns.locale.<name>.
  function pick(wide, abbreviated, narrow) {
    return function (n, options) {
      var width = (options && options.width) || "wide";
      return (width === "narrow" ? narrow : width === "wide" ? wide : abbreviated)[n];
    };
  }
  var zhCN = {
    code: "zh-CN",
    localize: {
      ordinalNumber: function (n) { return "第" + n; },
      era: function (n) { return ["公元前", "公元"][n]; },
      quarter: function (n) { return "第" + n + "季度"; },
      month: pick(months, numberedMonths, numberedMonths),
      day: pick(days, shortDays, narrowDays),
      dayPeriod: function (p) { return {am: "上午", pm: "下午", midnight: "午夜", noon: "中午"}[p] || p; }
    },
    formatLong: {
      date: function () { return "y年M月d日"; },
      time: function () { return "HH:mm:ss"; },
      dateTime: function () { return "{{date}} {{time}}"; }
    },
    formatDistance: function (token, count) { return String(count); },
    formatRelative: function () { return "yyyy-MM-dd"; },
    match: {},
    options: {weekStartsOn: 1, firstWeekContainsDate: 4}
  };
  window.dateFns = window.dateFns || {};
  window.dateFns.locale = window.dateFns.locale || {};
  window.dateFns.locale.zhCN = zhCN;
})();
