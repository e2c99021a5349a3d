#!/usr/bin/env python3
"""Generate synthetic seed exports in the real "Search documents" format, for benchmarks.

    python benchmarks/generate.py --facts 100000 --out benchmarks/out/corpus-100000-s1 --seed 1

Writes ~20 articles per file, ~15 facts per article, exactly --facts synthetic facts (bullets),
plus a copy of the real seed file(s) from seeds/ (their facts come on top), and `manifest.json`
*beside* the folder (not inside it, so an indexer never sees it). The output is the same for the
same --seed and --facts, whatever the number of --jobs.

What it writes looks like SEED-FORMAT.md: a page-name line (sometimes missing, sometimes with stray
`Workflow`/`icon` lines), a `Search documents` (or `搜索文档`) marker, then per article a Chinese
title, a `Source· YYYY-MM-DD HH:MM` line and one summary line of sections ("Core Viewpoint - fact
[1][2]. - fact [3]. Group 1: IPO Performance - ..."). Words are drawn from Zipf-weighted pools of
financial vocabulary, so common words (revenue, margins, IPO, investors, AI, data center ...) are
everywhere and common-word queries are hard. The distinctive entities of the real seed
(FORBIDDEN below) never appear in synthetic text; generation fails loudly if one slips in.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import sys
import time
from multiprocessing import get_context
from pathlib import Path

GENERATOR_VERSION = 2  # bump when the output for a given seed changes (invalidates caches)

HERE = Path(__file__).resolve().parent
REAL_SEEDS = HERE.parent / "seeds"

# Entities of the real seed that must stay unique to it (lower-case substring check).
FORBIDDEN = (
    "seres", "赛力斯", "nadella", "satya", "fairwater", "azure", "微软", "microsoft",
    "huawei", "华为", "openai", "agent hq", "winner's curse", "winner’s curse",
)

# --------------------------------------------------------------------------- vocabulary
# Every pool is ordered by how common its words should be; draws follow 1/rank^s.

SYLLABLES = [  # pinyin syllable -> Chinese character, for company names
    ("Zhong", "中"), ("Heng", "恒"), ("Rui", "瑞"), ("Xin", "新"), ("Tian", "天"), ("Hai", "海"),
    ("Kang", "康"), ("Long", "隆"), ("Sheng", "晟"), ("Da", "达"), ("Jin", "金"), ("Yuan", "元"),
    ("Feng", "丰"), ("Hong", "宏"), ("Guo", "国"), ("Ming", "明"), ("Yang", "阳"), ("Bo", "博"),
    ("Tai", "泰"), ("An", "安"), ("Fu", "富"), ("Cheng", "成"), ("Ji", "吉"), ("Rong", "荣"),
    ("Hui", "汇"), ("Kai", "凯"), ("Li", "立"), ("Peng", "鹏"), ("Ying", "盈"), ("Chuang", "创"),
    ("Yu", "宇"), ("Jia", "嘉"), ("Wan", "万"), ("Bao", "宝"), ("Xing", "星"), ("Guang", "光"),
    ("Dong", "东"), ("Nan", "南"), ("Bei", "北"), ("Xi", "西"), ("Shan", "山"), ("Chuan", "川"),
    ("Lan", "蓝"), ("Qing", "青"), ("Hua", "华"), ("Wei", "威"), ("Zhi", "智"), ("Ke", "科"),
    ("Yi", "亿"), ("Tong", "通"), ("Lian", "联"), ("Shi", "世"), ("Ze", "泽"), ("Run", "润"),
    ("Qi", "启"), ("Han", "瀚"), ("Lu", "鲁"), ("Min", "闽"), ("Su", "苏"), ("Zhe", "浙"),
    ("Pu", "浦"), ("Jiang", "江"), ("Lin", "林"), ("Sen", "森"), ("Mei", "美"), ("Ou", "欧"),
]
SUFFIXES = [  # English suffix, Chinese suffix, sector
    ("Technology", "科技", "technology"), ("Pharma", "医药", "pharmaceutical"),
    ("Semiconductor", "半导体", "semiconductor"), ("Motors", "汽车", "new energy vehicle"),
    ("Holdings", "控股", "conglomerate"), ("Securities", "证券", "brokerage"),
    ("Energy", "能源", "energy"), ("Robotics", "机器人", "robotics"), ("Biotech", "生物", "biotech"),
    ("Bank", "银行", "banking"), ("Insurance", "保险", "insurance"),
    ("New Energy", "新能源", "photovoltaic"), ("Microelectronics", "微电子", "semiconductor"),
    ("Optics", "光学", "optical module"), ("Materials", "材料", "materials"),
    ("Logistics", "物流", "logistics"), ("Foods", "食品", "consumer"), ("Media", "传媒", "media"),
    ("Cloud", "云", "cloud computing"), ("Auto", "汽车", "automotive"),
    ("Lithium", "锂业", "battery"), ("Power", "电力", "utilities"), ("Software", "软件", "software"),
    ("Electronics", "电子", "consumer electronics"), ("Liquor", "酒业", "liquor"),
    ("Medical", "医疗", "medical device"), ("Chemical", "化工", "chemicals"),
    ("Steel", "钢铁", "steel"), ("Real Estate", "地产", "real estate"), ("Shipping", "航运", "shipping"),
]
GLOBAL_PEERS = [  # well-known names that Chinese financial news mentions all the time
    ("Nvidia", "英伟达"), ("Tesla", "特斯拉"), ("Apple", "苹果"), ("TSMC", "台积电"),
    ("Alibaba", "阿里巴巴"), ("Tencent", "腾讯"), ("BYD", "比亚迪"), ("CATL", "宁德时代"),
    ("Xiaomi", "小米"), ("Meituan", "美团"), ("JD.com", "京东"), ("Baidu", "百度"),
    ("Li Auto", "理想汽车"), ("NIO", "蔚来"), ("XPeng", "小鹏汽车"), ("Samsung", "三星"),
    ("Intel", "英特尔"), ("AMD", "超威半导体"), ("Amazon", "亚马逊"), ("Google", "谷歌"),
    ("Meta", "Meta"), ("SMIC", "中芯国际"), ("Kweichow Moutai", "贵州茅台"), ("Ping An", "中国平安"),
    ("Pop Mart", "泡泡玛特"), ("Midea", "美的集团"), ("Haier", "海尔智家"), ("Geely", "吉利汽车"),
    ("Cambricon", "寒武纪"), ("Broadcom", "博通"), ("Micron", "美光"), ("SK Hynix", "SK海力士"),
]

SOURCES = [  # pinyin, Chinese and broker sources, most common first
    "Xin Lang Cai Jing", "Hua Er Jie Jian Wen", "3 6 Ke", "Mei Ri Jing Ji Xin Wen", "证券时报",
    "Zheng Quan Shi Bao", "Di Yi Cai Jing", "36氪", "Jie Mian Xin Wen", "财联社", "Cai Lian She",
    "ZHONGTAI SECURITIES", "CITIC SECURITIES", "HUATAI SECURITIES", "GUOTAI JUNAN SECURITIES",
    "Zhong Guo Ji Jin Bao", "上海证券报", "21 Shi Ji Jing Ji Bao Dao", "Jing Ji Guan Cha Wang",
    "CHINA GALAXY SECURITIES", "GF SECURITIES", "Ge Long Hui", "格隆汇", "Zhi Tong Cai Jing",
    "智通财经", "Tou Zi Jie", "HAITONG SECURITIES", "EVERBRIGHT SECURITIES", "Xiao Xiong Ban",
    "Lei Feng Wang", "钛媒体", "Tai Mei Ti", "CHANGJIANG SECURITIES", "SOOCHOW SECURITIES",
    "Guan Cha Zhe Wang", "Xue Qiu", "雪球", "Bo Ke Yuan", "TIANFENG SECURITIES", "Qi Cha Cha",
]
PAGE_NAMES = [
    "港股IPO", "半导体", "人工智能", "新能源汽车", "光伏", "算力", "机器人", "创新药", "白酒", "券商",
    "业绩预告", "估值", "数据中心", "消费电子", "锂电池", "AI", "IPO", "capex", "财经头条", "科技",
    "深度", "研报精选", "ZHONGTAI SECURITIES", "CITIC SECURITIES", "HUATAI SECURITIES", "宏观",
    "美股", "A股", "北向资金", "回购", "分红", "芯片", "大模型", "出海",
]
OVERVIEW_HEADINGS = [
    "Core Viewpoint", "Core Insights", "Core Viewpoints", "Core Views", "Market Overview",
    "Summary by Sections Company Overview", "核心观点", "Investment Highlights", "Summary",
]
TOPICS = [
    "Financial Performance", "IPO Performance", "Valuation Issues", "Market Dynamics",
    "Revenue Breakdown", "Margin Trends", "Capital Expenditure", "Industry Outlook",
    "Competitive Landscape", "Investment Rating", "Risk Factors", "Strategic Dependence",
    "Shareholder Returns", "Supply Chain", "Product Pipeline", "Policy Environment",
    "Overseas Expansion", "Cash Flow", "Earnings Guidance", "Management Commentary",
    "AI Strategy", "Data Center Demand", "Chip Supply", "Pricing Strategy", "Capacity Expansion",
    "Order Backlog", "Market Share", "R&D Investment", "Investor Sentiment", "Regulatory Changes",
    "Future Outlook", "Industry Profitability", "Key Risks", "Business Model", "Cost Control",
]
METRICS = [
    "revenue", "net profit", "gross margin", "operating income", "net profit attributable to shareholders",
    "sales volume", "operating margin", "capex", "capital expenditure", "free cash flow", "EBITDA",
    "R&D spending", "deliveries", "shipments", "order backlog", "market share", "net margin",
    "operating cash flow", "earnings per share", "return on equity", "inventory", "gross profit",
    "non-GAAP net profit", "overseas revenue", "contract liabilities", "dividend payout",
    "cloud revenue", "AI-related revenue", "average selling price", "unit cost", "utilization rate",
]
CHANGE_UP = ["increased", "rose", "grew", "surged", "climbed", "jumped", "improved", "expanded", "soared"]
CHANGE_DOWN = ["declined", "fell", "dropped", "decreased", "slumped", "narrowed", "contracted", "plunged"]
CHANGE_BASIS = ["year - on - year", "year-on-year", "quarter - on - quarter", "month-on-month", "year on year"]
PERIODS = [
    "the first three quarters of 2025", "the third quarter", "Q3 2025", "the first half of 2025",
    "2024", "2025", "2026", "the second quarter", "Q2 2025", "the full year", "the fourth quarter of 2024",
    "the first quarter", "Q1 2025", "2027", "the past twelve months", "the next three years", "H1 2025",
    "October", "September", "the 2024 fiscal year", "the 15th Five-Year Plan period",
]
INVESTORS = [
    "retail investors", "institutional investors", "cornerstone investors", "foreign investors",
    "northbound funds", "public funds", "private equity funds", "sovereign funds", "insurance funds",
    "hedge funds", "state-owned investors", "strategic investors", "index funds", "social security funds",
]
SECTORS = [
    "AI", "semiconductor", "new energy vehicle", "data center", "cloud computing", "photovoltaic",
    "battery", "robotics", "consumer electronics", "biotech", "liquor", "banking", "insurance",
    "real estate", "optical module", "humanoid robot", "software", "power grid", "gaming", "e-commerce",
    "shipping", "steel", "chemicals", "medical device", "autonomous driving", "low-altitude economy",
]
PRODUCTS = [
    "chips", "AI chips", "data centers", "AI servers", "GPUs", "optical modules", "power batteries",
    "large models", "smartphones", "electric vehicles", "humanoid robots", "HBM memory", "solar wafers",
    "AI agents", "cloud services", "accelerators", "energy storage systems", "liquid cooling systems",
    "PCBs", "autonomous driving software", "innovative drugs", "wearables", "edge computing devices",
    "inference clusters", "switches", "copper cables", "lithium carbonate", "premium liquor",
]
ACTIONS = [
    "expand production capacity", "raise capital", "list in Hong Kong", "buy back shares",
    "cut prices", "increase capex", "enter overseas markets", "spin off its subsidiary",
    "launch new products", "reduce costs", "acquire a competitor", "build new data centers",
    "increase dividends", "develop self-designed chips", "expand its sales network",
    "secure long-term supply contracts", "streamline its product line", "issue convertible bonds",
    "invest in AI infrastructure", "restructure its business", "lower its debt ratio",
]
ADJS = [
    "strong", "significant", "weak", "rapid", "stable", "high", "low", "new", "overall", "key",
    "continued", "major", "long-term", "short-term", "global", "domestic", "competitive", "rising",
    "slowing", "robust", "limited", "structural", "cyclical", "sustainable", "aggressive", "cautious",
    "healthy", "intense", "gradual", "sharp", "steady", "modest", "substantial", "core", "premium",
    "high-end", "low-cost", "leading", "emerging", "traditional", "overseas", "potential", "fierce",
    "resilient", "volatile", "favorable", "unfavorable", "elevated", "record", "marginal",
]
NOUNS = [
    "market", "growth", "demand", "company", "investors", "industry", "revenue", "prices",
    "margins", "competition", "valuation", "profitability", "expansion", "costs", "capacity",
    "shares", "stock price", "sales", "momentum", "pressure", "recovery", "risk", "uncertainty",
    "investment", "supply", "inventory", "orders", "customers", "technology", "innovation",
    "policy support", "consumer spending", "market expectations", "cash flow", "earnings",
    "performance", "upside", "downside", "headwinds", "tailwinds", "penetration", "adoption",
    "market capitalization", "liquidity", "sentiment", "fundamentals", "premium", "discount",
    "business model", "ecosystem", "partnership", "infrastructure", "workloads", "efficiency",
    "productivity", "scale", "pricing power", "bargaining power", "brand", "channels",
    "dividends", "buybacks", "leverage", "debt", "financing", "subsidies", "tariffs", "exports",
    "localization", "substitution", "upgrades", "iteration", "volatility", "turnover",
]
PREPS = ["in", "for", "across", "from", "within", "among", "of", "around", "amid", "toward"]
CONNECTORS = [
    "reflecting", "driven by", "highlighting", "supported by", "indicating", "due to", "amid",
    "despite", "as a result of", "signaling", "underscoring", "reflecting concerns about",
    "which raised questions about", "leading to", "thanks to", "offset by", "pointing to",
]
DRIVERS = [
    "strong demand for AI computing power", "price competition", "rising raw material costs",
    "weak consumer demand", "policy support", "overseas expansion", "product mix upgrades",
    "the ramp-up of new capacity", "inventory destocking", "higher R&D investment",
    "falling lithium prices", "currency fluctuations", "the recovery of downstream demand",
    "intensifying competition", "export restrictions", "cost reduction measures",
    "the launch of new models", "a high base effect", "seasonal factors", "one-off gains",
    "impairment losses", "lower interest rates", "the shift to high-end products",
    "data center construction", "capex by cloud providers", "government procurement",
]
ANALYST_VIEWS = [
    "maintains a Buy rating", "upgrades the rating to Overweight", "keeps an Outperform rating",
    "initiates coverage with a Buy rating", "cuts the target price", "raises the target price",
    "maintains a Hold rating", "downgrades the stock to Neutral", "sees limited upside",
    "expects a re-rating", "remains cautious", "is optimistic about the long-term outlook",
]
CURRENCIES = ["yuan", "billion yuan", "HKD", "billion HKD", "USD", "billion USD", "million yuan", "RMB"]
TITLE_TEMPLATES = [  # {cn}: Chinese company name, {n}: number, {sector}: Chinese sector word
    "{cn}为何突然暴跌?", "{cn}三季度净利润同比增长{n}%", "{cn}港股IPO首日破发", "{cn}:{sector}龙头的估值逻辑",
    "深度|{cn}的增长困局", "{cn}发布2025年业绩预告", "券商:{cn}目标价上调至{n}元", "{cn}股价大涨{n}%,发生了什么?",
    "{cn}资本开支激增,{sector}需求还能持续多久", "{cn}毛利率下滑,价格战何时结束", "{cn}拟赴港上市,募资{n}亿港元",
    "{cn}回购{n}亿元,释放什么信号", "{sector}行业深度:{cn}的护城河", "{cn}与{peer}的{sector}之争",
    "{cn}营收增速放缓,市场担忧加剧", "{cn}海外业务收入占比突破{n}%", "{cn}业绩点评:{sector}业务超预期",
    "一文读懂{cn}", "{cn}董事长:未来三年将加大{sector}投入", "{sector}周报:{cn}领涨", "{cn}的{sector}野心",
    "{cn}净利润下降{n}%,原因何在", "{cn}获{n}倍超额认购", "机构调研{cn}:{sector}订单饱满",
]
SECTOR_CN = ["半导体", "人工智能", "新能源汽车", "光伏", "算力", "机器人", "创新药", "白酒", "锂电", "数据中心",
             "消费电子", "云计算", "储能", "光模块", "自动驾驶", "芯片", "大模型", "电力设备", "医疗器械"]

# Sentence templates; {co} is the article's company, {peer} another company.
TEMPLATES = [
    "{co} reported {metric} of {amount} for {period}, {chg} {pct} {basis}, {connector} {adj} {noun}",
    "The company's {metric} {up} {pct} {basis} to {amount}, {connector} {driver}",
    "{co}'s {metric} {down} by {pct} in {period}, {connector} {adj} {noun} {prep} the {sector} sector",
    "{co} plans to {action}, with {adj} {noun} expected in {period}",
    "Analysts expect {metric} to reach {amount} by {period}, {connector} {driver}",
    "The {sector} sector saw {adj} {noun} as {driver} weighed on {noun}",
    "{co} raised {amount} in its IPO, with {pct} of the shares allocated to {investors}",
    "On its first trading day, the stock {down} {pct}, leaving {investors} with losses and {adj} {noun}",
    "The offering was {times} times subscribed by {investors}, while {investors} showed {adj} interest",
    "{co} is trading at {times} times earnings, compared with an industry average of {times} times",
    "The report {view} on {co}, citing {adj} {noun} and {driver}",
    "{co} intends to {action} to strengthen its position in {products}, {connector} {adj} {noun}",
    "Demand for {products} {up} {pct} in {period}, benefiting suppliers such as {co} and {peer}",
    "{co}'s gross margin of {pct} is {comparison} than {peer}'s, mainly {connector} {driver}",
    "Management guided {metric} growth of {pct} for {period} and said capex would remain {level}",
    "{co} and {peer} are competing for {products} orders, and {adj} {noun} may squeeze margins",
    "The valuation of {co} reflects {adj} {noun}, but {investors} remain concerned about {noun}",
    "Capital expenditures on {products} are projected to reach {amount} in {period}",
    "{co} holds a {pct} market share in {products}, {connector} {adj} {noun} {prep} {noun}",
    "The company {up} its dividend payout to {pct}, with buybacks of {amount} planned for {period}",
    "Net profit attributable to shareholders was {amount}, {chg} {pct} {basis}",
    "The price range of {range} yuan per share implies a valuation of {amount}",
    "{co} signed a supply agreement with {peer} for {products} worth {amount}",
    "Investors are watching whether {co} can sustain {adj} growth in {products} amid {noun}",
    "The stock has {up} {pct} since the start of the year, outperforming the {sector} index",
    "Inventory of {products} {down} to {days} days, {connector} {adj} {noun}",
    "{co} expects {products} shipments to {verb_up} {pct} in {period} as {driver} continues",
]

# General Zipf-ranked filler words, for the second sentence of longer facts.
FILLER = (
    "the company market growth investors AI demand industry revenue margins valuation shares capacity "
    "competition costs profit expansion strategy products business data center chips technology customers "
    "prices orders supply risk policy capital outlook performance earnings IPO global domestic overseas "
    "investment efficiency management pressure recovery momentum sector trend sales volume leadership "
    "innovation platform ecosystem infrastructure computing models software hardware services pipeline "
    "brand channels consumers users partners suppliers factories plants production inventory pricing "
    "discount premium sentiment liquidity financing debt dividends buybacks shareholders board executives "
    "guidance forecast consensus estimates upside downside catalysts headwinds tailwinds cycle structure "
    "mix upgrade transformation integration localization exports tariffs regulation subsidies approvals "
    "licenses patents talent workforce automation robotics batteries lithium solar wafers storage grid "
    "power electricity cooling servers networking optics memory packaging foundry lithography design "
    "testing clinical trials drugs devices hospitals insurance banking loans deposits interest rates bonds "
    "currency yuan dollar exchange listing underwriters sponsors cornerstone allotment subscription "
    "lock-up float turnover volatility rally correction rebound slump bubble benchmark index fund "
    "allocation rotation style smallcap midcap largecap dividend-yield defensive cyclical growth-stock "
    "value-stock contrarian momentum-driven quarterly annual interim results beat miss surprise "
    "conference call roadshow analysts coverage rating target multiple multiples ratio ratios "
    "penetration adoption iteration generation roadmap milestone breakthrough bottleneck constraint "
    "shortage oversupply glut destocking restocking utilization backlog lead-time procurement tender "
    "contract framework agreement memorandum joint-venture subsidiary spin-off merger acquisition "
    "restructuring divestment impairment write-down provision goodwill amortization depreciation "
    "tax incentive rebate refund compliance audit disclosure governance ESG carbon emissions neutrality"
).split()

SECTION_NOTHING = "Not provided in the given content."


# --------------------------------------------------------------------------- sampling helpers

def zipf_cum(n: int, s: float = 1.07) -> list[float]:
    return list(itertools.accumulate(1.0 / (r ** s) for r in range(1, n + 1)))


class Stream:
    """An endless Zipf-weighted stream of items: next(stream) is one draw (drawn in batches: fast)."""

    __slots__ = ("items", "cum", "rng", "it", "batch")

    def __init__(self, rng: random.Random, items: list, s: float = 1.07, batch: int = 256):
        self.items, self.rng, self.batch = items, rng, batch
        self.cum = zipf_cum(len(items), s)
        self.it = iter(())

    def __call__(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.rng.choices(self.items, cum_weights=self.cum, k=self.batch))
            return next(self.it)


def forbidden_in(text: str) -> str | None:
    low = text.lower()
    for f in FORBIDDEN:
        if f in low:
            return f
    return None


def companies(seed: int, facts: int) -> list[dict]:
    """The company list of a corpus, most frequent first (the harness builds its queries from it)."""
    rng = random.Random(f"factbot-companies:{seed}")
    n = max(150, min(6000, facts // 150))
    out, seen = [], set()
    peers = list(GLOBAL_PEERS)
    rng.shuffle(peers)
    # global peers are sprinkled among the top ranks
    peer_slots = set(rng.sample(range(0, min(n, 400)), len(peers)))
    while len(out) < n:
        if len(out) in peer_slots and peers:
            en, cn = peers.pop()
            out.append({"en": en, "cn": cn, "sector": rng.choice(SECTORS)})
            continue
        (p1, c1), (p2, c2) = rng.sample(SYLLABLES, 2)
        sfx_en, sfx_cn, sector = rng.choice(SUFFIXES)
        en = f"{p1}{p2.lower()} {sfx_en}"
        cn = f"{c1}{c2}{sfx_cn}"
        if en in seen or cn in seen or forbidden_in(en + " " + cn):
            continue
        seen.update((en, cn))
        out.append({"en": en, "cn": cn, "sector": sector})
    return out


def _compile(template: str) -> list[tuple[str, str | None]]:
    parts, rest = [], template
    while "{" in rest:
        lit, _, tail = rest.partition("{")
        slot, _, rest = tail.partition("}")
        parts.append((lit, slot))
    parts.append((rest, None))
    return parts


COMPILED = [_compile(t) for t in TEMPLATES]


# --------------------------------------------------------------------------- one file

class FileWriter:
    def __init__(self, seed: int, file_no: int, comps: list[dict]):
        rng = self.rng = random.Random(f"factbot-gen:{seed}:{file_no}")
        self.comps = comps
        self.company = Stream(rng, comps, s=1.0)
        S = lambda items, s=1.07: Stream(rng, items, s)  # noqa: E731
        self.streams = {
            "metric": S(METRICS), "up": S(CHANGE_UP), "down": S(CHANGE_DOWN), "basis": S(CHANGE_BASIS),
            "period": S(PERIODS), "investors": S(INVESTORS), "sector": S(SECTORS), "products": S(PRODUCTS),
            "action": S(ACTIONS), "adj": S(ADJS), "noun": S(NOUNS), "prep": S(PREPS),
            "connector": S(CONNECTORS), "driver": S(DRIVERS), "view": S(ANALYST_VIEWS),
        }
        self.template = Stream(rng, COMPILED, s=0.6)
        self.filler = Stream(rng, FILLER, s=1.0, batch=1024)
        self.topic = S(TOPICS)
        self.source = S(SOURCES)
        self.page = S(PAGE_NAMES)
        self.overview = Stream(rng, OVERVIEW_HEADINGS, s=1.3)
        self.title_t = S(TITLE_TEMPLATES, 0.8)
        self.sector_cn = S(SECTOR_CN)

    # numbers -------------------------------------------------------------
    def amount(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return f"{self.rng.uniform(0.5, 300):.1f} billion {self.rng.choice(('yuan', 'HKD', 'USD', 'RMB'))}"
        if r < 0.8:
            return f"{self.rng.randint(20, 9999)} million {self.rng.choice(('yuan', 'HKD', 'USD'))}"
        return f"{self.rng.randint(2, 990)} {self.rng.choice(CURRENCIES)}"

    def pct(self) -> str:
        return f"{self.rng.uniform(0.1, 95):.1f}%" if self.rng.random() < 0.8 else f"{self.rng.randint(1, 300)}%"

    def slot(self, name: str, co: str, peer: str) -> str:
        if name == "co":
            return co
        if name == "peer":
            return peer
        if name == "amount":
            return self.amount()
        if name == "pct":
            return self.pct()
        if name == "chg":
            return self.rng.choice(("up", "down", "an increase of", "a decrease of"))
        if name == "times":
            return f"{self.rng.uniform(1.2, 150):.1f}"
        if name == "range":
            a = self.rng.randint(5, 400)
            return f"{a} - {a + self.rng.randint(2, 20)}"
        if name == "comparison":
            return self.rng.choice(("higher", "lower", "slightly higher", "far lower"))
        if name == "days":
            return str(self.rng.randint(20, 180))
        if name == "level":
            return self.rng.choice(("stable", "elevated", "high", "flat", "disciplined"))
        if name == "verb_up":
            return self.rng.choice(("grow", "rise", "increase", "double"))
        return self.streams[name]()

    def sentence(self, co: str, peer: str) -> str:
        out = []
        for lit, slot in self.template():
            out.append(lit)
            if slot:
                out.append(self.slot(slot, co, peer))
        s = "".join(out)
        return s[0].upper() + s[1:]

    def filler_sentence(self) -> str:
        n = self.rng.randint(6, 14)
        words = [self.filler() for _ in range(n)]
        return "This " + " ".join(words)

    def fact(self, co: str, peer: str) -> str:
        r = self.rng.random()
        parts = [self.sentence(co, peer)]
        if r < 0.35:
            parts.append(self.sentence(co, peer) if r < 0.2 else self.filler_sentence())
        elif r < 0.40:
            parts.append(self.sentence(co, peer))
            parts.append(self.filler_sentence())
        return ". ".join(parts)

    def citations(self, text: str) -> str:
        """Text plus its citation marks, with the variations of real exports."""
        rng = self.rng
        r = rng.random()
        nums = sorted(rng.sample(range(1, 60), rng.choice((1, 1, 2, 2, 2, 3))))
        marks = "".join(f"[{n}]" for n in nums)
        if r < 0.80:
            return f"{text} {marks}."
        if r < 0.85:
            return f"{text} {marks}"  # no full stop
        if r < 0.88:
            return f"{text}{marks}."  # no space before
        if r < 0.90:
            return f"{text} [{nums[0]}][{nums[0]}]."  # repeated
        if r < 0.93:
            return f"{text} {''.join(f'[{n}]' for n in reversed(nums))}."  # out of order
        return f"{text}."  # none at all

    def heading(self, i: int, style: int) -> str:
        if style == 0:
            return f"Group {i}: {self.topic()}"
        if style == 1:
            return f"Group {i}"
        if style == 2:
            return f"{i}. {self.topic()}"
        return self.topic()

    def article(self, n_facts: int) -> tuple[str, int, int]:
        rng = self.rng
        comp = self.company()
        peer = self.company()
        if peer is comp:
            peer = self.comps[(self.comps.index(comp) + 1) % len(self.comps)]
        co, peer_en = comp["en"], peer["en"]
        t = self.title_t().format(cn=comp["cn"], peer=peer["cn"], sector=self.sector_cn(), n=rng.randint(2, 300))
        y, mo, d = rng.choice((2024, 2025, 2025, 2025)), rng.randint(1, 12), rng.randint(1, 28)
        sep = "· " if rng.random() < 0.9 else "·"
        src = f"{self.source()}{sep}{y}-{mo:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        # sections: an overview of 1-2 facts, then sections of 1-4 facts
        sizes = [min(n_facts, rng.choice((1, 1, 1, 2)))]
        left = n_facts - sizes[0]
        while left > 0:
            k = min(left, rng.choice((1, 2, 3, 3, 3, 3, 4)))
            sizes.append(k)
            left -= k
        style = rng.choice((0, 0, 0, 0, 1, 2, 2, 3, 3))
        chunks = []
        nothing = 0
        for si, k in enumerate(sizes):
            head = self.overview() if si == 0 else self.heading(si, style)
            bullets = [self.citations(self.fact(co, peer_en)) for _ in range(k)]
            chunks.append(f"{head} - " + " - ".join(bullets))
        if style != 3 and rng.random() < 0.02:  # a section that says nothing is there
            chunks.insert(1, f"Report Industry Investment Rating - {SECTION_NOTHING}")
            nothing = 1
        return f"{t}\n{src}\n{' '.join(chunks)}\n", n_facts, nothing

    def file_text(self, budget: int) -> tuple[str, int, int, int]:
        rng = self.rng
        sizes = []
        left = budget
        while left > 0:
            r = rng.random()
            k = rng.randint(3, 7) if r < 0.1 else rng.randint(23, 30) if r > 0.95 else rng.randint(8, 22)
            if left - k < 3:
                k = left
            sizes.append(k)
            left -= k
        head = []
        single = len(sizes) == 1
        r = rng.random()
        if not (single and r < 0.3):  # an exported single article may have no header at all
            if rng.random() < 0.95:
                head.append(self.page())
            if rng.random() < 0.05:
                head.extend(rng.choice((["Workflow"], ["icon"], ["Workflow", "icon"])))
            head.append("搜索文档" if rng.random() < 0.1 else "Search documents")
        body, facts, nothing = [], 0, 0
        for k in sizes:
            text, f, z = self.article(k)
            body.append(text)
            facts += f
            nothing += z
        return ("\n".join(head) + "\n" if head else "") + "".join(body), facts, len(sizes), nothing


# --------------------------------------------------------------------------- the "varied" profile
# The standard profile's vocabulary is a few hundred words and its articles are all alike (~15
# facts, ~20 a file, one Chinese title each): an index of it is easy to build. The varied profile
# stresses what real digests have and it lacks: a vocabulary of tens of thousands of words, whole
# Chinese summaries (about a fifth of the articles, with **label**：sections and Chinese bigrams
# from a pool of ~2,500 characters), articles of 1 to 120 facts, files of 1 to ~150 articles,
# long multi-sentence bullets, CRLF line ends and byte-order marks now and then.

_CJK_EXCLUDED = set("".join(f for f in FORBIDDEN if not f.isascii()))
CJK_POOL = random.Random("factbot-cjk").sample(
    [chr(c) for c in range(0x4E00, 0x9FA6) if chr(c) not in _CJK_EXCLUDED], 3500)  # a reader's characters
LABELS_CN = ["业绩表现", "核心观点", "投资要点", "风险提示", "行业动态", "估值分析", "盈利预测", "公司概况",
             "市场表现", "经营情况", "资本开支", "未来展望", "竞争格局", "政策环境", "股东回报"]
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pl pr st tr sp sk th ch sh".split()
_VOWELS = "a e i o u ai ea ou io ia".split()
_CODAS = ["", "", "n", "r", "s", "l", "t", "m", "nd", "st", "rk", "x"]


def lexicon(seed: int, n: int = 40_000) -> list[str]:
    """n distinct pseudo-English words (Zipf-ranked by position), none holding a forbidden entity."""
    rng = random.Random(f"factbot-lexicon:{seed}")
    out, seen = [], set(FILLER)
    while len(out) < n:
        w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                    for _ in range(rng.choice((1, 2, 2, 2, 3, 3, 4))))
        if len(w) < 3 or w in seen or forbidden_in(w) or w in ("agent", "hq", "winner", "curse"):
            continue
        seen.add(w)
        out.append(w)
    return out


class VariedWriter(FileWriter):
    _lexicon: dict[int, list[str]] = {}
    _chars = None

    def __init__(self, seed: int, file_no: int, comps: list[dict]):
        super().__init__(seed, file_no, comps)
        words = self._lexicon.get(seed) or self._lexicon.setdefault(seed, lexicon(seed))
        self.word = Stream(self.rng, words, s=1.0, batch=1024)
        self.common = Stream(self.rng, FILLER, s=1.0, batch=1024)
        self.char = Stream(self.rng, CJK_POOL, s=0.9, batch=2048)
        self.label = Stream(self.rng, LABELS_CN, s=1.0)

    def filler_sentence(self) -> str:
        rng = self.rng
        n = rng.randint(6, 30)
        words = [self.word() if rng.random() < 0.45 else self.common() for _ in range(n)]
        return words[0].capitalize() + " " + " ".join(words[1:])

    def fact(self, co: str, peer: str) -> str:
        rng = self.rng
        parts = [self.sentence(co, peer) if rng.random() < 0.6 else self.filler_sentence()]
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3, 5))):
            parts.append(self.sentence(co, peer) if rng.random() < 0.4 else self.filler_sentence())
        return ". ".join(parts)

    def cn_sentence(self, comp: dict) -> str:
        rng = self.rng
        clauses = []
        for _ in range(rng.choice((1, 2, 2, 3, 4))):
            clause = "".join(self.char() for _ in range(rng.randint(4, 18)))
            if rng.random() < 0.3:
                clause = comp["cn"] + clause
            if rng.random() < 0.2:
                clause += f"{rng.uniform(0.1, 99):.1f}%"
            clauses.append(clause)
        sep = " " if rng.random() < 0.3 else "，"  # spaces where commas would be, as some exports do
        marks = "".join(f"[{n}]" for n in sorted(rng.sample(range(1, 40), rng.choice((0, 1, 1, 2)))))
        return sep.join(clauses) + marks + "。"

    def cn_summary(self, comp: dict, n_facts: int) -> str:
        rng = self.rng
        out, left = [], n_facts
        while left > 0:
            k = min(left, rng.randint(1, 5))
            out.append(f"**{self.label()}**：" + "".join(self.cn_sentence(comp) for _ in range(k)))
            left -= k
        return "".join(out)

    def article(self, n_facts: int) -> tuple[str, int, int]:
        rng = self.rng
        if rng.random() >= 0.2:
            return super().article(n_facts)
        comp = self.company()
        t = self.title_t().format(cn=comp["cn"], peer=self.company()["cn"], sector=self.sector_cn(),
                                  n=rng.randint(2, 300))
        y, mo, d = rng.choice((2023, 2024, 2025, 2025)), rng.randint(1, 12), rng.randint(1, 28)
        src = f"{self.source()}· {y}-{mo:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        return f"{t}\n{src}\n{self.cn_summary(comp, n_facts)}\n", n_facts, 0

    def file_text(self, budget: int) -> tuple[str, int, int, int]:
        rng = self.rng
        sizes, left = [], budget
        while left > 0:
            r = rng.random()
            k = (rng.randint(1, 5) if r < 0.3 else rng.randint(6, 25) if r < 0.8
                 else rng.randint(26, 60) if r < 0.95 else rng.randint(61, 120))
            k = min(k, left)
            sizes.append(k)
            left -= k
        head = []
        if not (len(sizes) == 1 and rng.random() < 0.3):
            if rng.random() < 0.95:
                head.append(self.page())
            head.append("搜索文档" if rng.random() < 0.2 else "Search documents")
        body, facts, nothing = [], 0, 0
        for k in sizes:
            text, f, z = self.article(k)
            body.append(text + ("\n" if rng.random() < 0.3 else ""))
            facts += f
            nothing += z
        text = ("\n".join(head) + "\n" if head else "") + "".join(body)
        if rng.random() < 0.05:
            text = text.replace("\n", "\r\n")
        if rng.random() < 0.02:
            text = "\ufeff" + text
        return text, facts, len(sizes), nothing


PROFILES = {"standard": FileWriter, "varied": VariedWriter}


def _write_files(args) -> dict:
    seed, out, comps, jobs, profile = args
    writer = PROFILES[profile]
    stats = {"facts": 0, "articles": 0, "nothing_sections": 0, "bytes": 0, "files": 0}
    for file_no, budget, name in jobs:
        text, facts, arts, nothing = writer(seed, file_no, comps).file_text(budget)
        bad = forbidden_in(text)
        if bad:
            raise RuntimeError(f"{name}: generated text contains the forbidden entity {bad!r}")
        data = text.encode("utf-8")
        (Path(out) / name).write_bytes(data)
        stats["facts"] += facts
        stats["articles"] += arts
        stats["nothing_sections"] += nothing
        stats["bytes"] += len(data)
        stats["files"] += 1
    return stats


def plan(seed: int, facts: int, profile: str = "standard") -> list[tuple[int, int, str]]:
    """(file number, fact budget, file name) per synthetic file: ~300 facts, a few single-article
    files; the varied profile from 1 to ~3,000 facts a file."""
    rng = random.Random(f"factbot-plan:{seed}:{facts}" + ("" if profile == "standard" else f":{profile}"))
    out, left, i = [], facts, 0
    while left > 0:
        if profile == "standard":
            b = rng.randint(5, 25) if rng.random() < 0.03 else rng.randint(220, 380)
        else:
            b = int(min(3000, max(1, rng.lognormvariate(5.3, 1.2))))
        b = min(b, left)
        if left - b < 5:
            b = left
        i += 1
        out.append((i, b, f"{i:06d}_{rng.getrandbits(64):016x}.txt"))
        left -= b
    return out


def generate(facts: int, out: Path, seed: int = 1, jobs: int | None = None, real: Path | None = REAL_SEEDS,
             profile: str = "standard") -> dict:
    t0 = time.perf_counter()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    comps = companies(seed, facts)
    files = plan(seed, facts, profile)
    jobs = jobs or min(4, os.cpu_count() or 1)
    chunks = [files[i::jobs] for i in range(jobs)]
    work = [(seed, str(out), comps, c, profile) for c in chunks if c]
    if len(work) > 1:
        with get_context("fork").Pool(len(work)) as pool:
            results = pool.map(_write_files, work)
    else:
        results = [_write_files(w) for w in work]
    stats = {k: sum(r[k] for r in results) for k in results[0]}
    real_files = []
    if real and Path(real).is_dir():
        for p in sorted(Path(real).glob("*.txt")):
            shutil.copyfile(p, out / p.name)
            real_files.append(p.name)
    manifest = {
        "generator_version": GENERATOR_VERSION, "profile": profile, "seed": seed, "synthetic_facts": stats["facts"],
        "synthetic_articles": stats["articles"], "synthetic_files": stats["files"],
        "nothing_sections": stats["nothing_sections"], "bytes": stats["bytes"], "real_files": real_files,
        "companies": len(comps), "seconds": round(time.perf_counter() - t0, 2),
    }
    manifest_path(out).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def manifest_path(out: Path) -> Path:
    out = Path(out)
    return out.parent / (out.name + ".manifest.json")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facts", type=int, required=True, help="number of synthetic facts (bullets)")
    ap.add_argument("--out", required=True, help="output folder (replaced if it exists)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: min(4, CPUs))")
    ap.add_argument("--no-real", action="store_true", help="do not copy the real seed files in")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="standard",
                    help="standard: uniform articles, small vocabulary; varied: see VariedWriter")
    a = ap.parse_args(argv)
    m = generate(a.facts, Path(a.out), a.seed, a.jobs, None if a.no_real else REAL_SEEDS, a.profile)
    print(json.dumps(m, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
