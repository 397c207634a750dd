/*
 * demo.c - realistic synthetic customers of a Beijing and Shanghai antiques dealer,
 * with their purchases and the conversations staff had with them.
 *
 * The idea: small tables of real-world shapes (common surnames and given-name
 * characters with their pinyin, real district codes and streets of both cities, real
 * mobile prefixes, real eras and the kinds of objects made in them, auction price
 * increments) combined by a deterministic generator (xoshiro256** seeded through
 * splitmix64). One seed gives the same records everywhere: only integer arithmetic, and
 * every random draw is its own statement, so no unspecified evaluation order can
 * reorder them. Values are built as text and stored through record_set, so whatever
 * is generated has passed the same validation as an import.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/demo.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the generator ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void demo_rng_seed(demo_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

uint64_t demo_rng_next(demo_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint32_t demo_rng_below(demo_rng *r, uint32_t n)
{
    if (n == 0) {
        return 0;
    }
    /* Lemire's multiply-and-reject: unbiased, rarely more than one draw. */
    uint64_t m = (demo_rng_next(r) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (demo_rng_next(r) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* True with probability percent/100. */
static bool chance(demo_rng *r, uint32_t percent)
{
    return demo_rng_below(r, 100) < percent;
}

/* Uniform in [lo, hi]. */
static uint32_t between(demo_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + demo_rng_below(r, hi - lo + 1);
}

/* An index into weights[0..n), drawn in proportion to the weights. */
static size_t weighted(demo_rng *r, const uint8_t *weights, size_t n)
{
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += weights[i];
    }
    uint32_t x = demo_rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i]) {
            return i;
        }
        x -= weights[i];
    }
    return n - 1;
}

#define PICK(r, table) ((table)[demo_rng_below((r), (uint32_t)COUNT(table))])

/* ---- names -------------------------------------------------------------------------------- */

typedef struct hanzi {
    const char *hz; /* UTF-8 */
    const char *py; /* pinyin without tones, as people type it in an email address */
} hanzi;

/* Roughly in order of frequency: the first 20 are drawn more often. */
static const hanzi SURNAMES[] = {
    {"王", "wang"},  {"李", "li"},    {"张", "zhang"}, {"刘", "liu"},   {"陈", "chen"},
    {"杨", "yang"},  {"黄", "huang"}, {"赵", "zhao"},  {"吴", "wu"},    {"周", "zhou"},
    {"徐", "xu"},    {"孙", "sun"},   {"马", "ma"},    {"朱", "zhu"},   {"胡", "hu"},
    {"郭", "guo"},   {"何", "he"},    {"高", "gao"},   {"林", "lin"},   {"罗", "luo"},
    {"郑", "zheng"}, {"梁", "liang"}, {"谢", "xie"},   {"宋", "song"},  {"唐", "tang"},
    {"许", "xu"},    {"韩", "han"},   {"冯", "feng"},  {"邓", "deng"},  {"曹", "cao"},
    {"彭", "peng"},  {"曾", "zeng"},  {"萧", "xiao"},  {"田", "tian"},  {"董", "dong"},
    {"袁", "yuan"},  {"潘", "pan"},   {"于", "yu"},    {"蒋", "jiang"}, {"蔡", "cai"},
    {"余", "yu"},    {"杜", "du"},    {"叶", "ye"},    {"程", "cheng"}, {"苏", "su"},
    {"魏", "wei"},   {"吕", "lv"},    {"丁", "ding"},  {"任", "ren"},   {"沈", "shen"},
    {"姚", "yao"},   {"卢", "lu"},    {"姜", "jiang"}, {"崔", "cui"},   {"钟", "zhong"},
    {"谭", "tan"},   {"陆", "lu"},    {"汪", "wang"},  {"范", "fan"},   {"金", "jin"},
    {"石", "shi"},   {"廖", "liao"},  {"贾", "jia"},   {"夏", "xia"},   {"韦", "wei"},
    {"付", "fu"},    {"方", "fang"},  {"白", "bai"},   {"邹", "zou"},   {"孟", "meng"},
    {"熊", "xiong"}, {"秦", "qin"},   {"邱", "qiu"},   {"江", "jiang"}, {"尹", "yin"},
    {"薛", "xue"},   {"闫", "yan"},   {"段", "duan"},  {"雷", "lei"},   {"侯", "hou"},
    {"龙", "long"},  {"史", "shi"},   {"陶", "tao"},   {"黎", "li"},    {"贺", "he"},
    {"顾", "gu"},    {"毛", "mao"},   {"郝", "hao"},   {"龚", "gong"},  {"邵", "shao"},
    {"万", "wan"},   {"钱", "qian"},  {"严", "yan"},   {"覃", "qin"},   {"武", "wu"},
    {"戴", "dai"},   {"莫", "mo"},    {"孔", "kong"},  {"向", "xiang"}, {"汤", "tang"},
};
#define SURNAMES_COMMON 20

static const hanzi COMPOUND_SURNAMES[] = {
    {"欧阳", "ouyang"}, {"司马", "sima"}, {"诸葛", "zhuge"}, {"上官", "shangguan"}};

/* Given-name characters, leaning male and leaning female (the ID number's sex digit
 * follows the table the name was drawn from). */
static const hanzi GIVEN_MALE[] = {
    {"伟", "wei"},   {"强", "qiang"}, {"磊", "lei"},  {"军", "jun"},   {"勇", "yong"},
    {"杰", "jie"},   {"涛", "tao"},   {"明", "ming"}, {"超", "chao"},  {"刚", "gang"},
    {"平", "ping"},  {"辉", "hui"},   {"鹏", "peng"}, {"华", "hua"},   {"飞", "fei"},
    {"鑫", "xin"},   {"波", "bo"},    {"斌", "bin"},  {"宇", "yu"},    {"浩", "hao"},
    {"凯", "kai"},   {"健", "jian"},  {"俊", "jun"},  {"帆", "fan"},   {"旭", "xu"},
    {"宁", "ning"},  {"龙", "long"},  {"林", "lin"},  {"国", "guo"},   {"建", "jian"},
    {"志", "zhi"},   {"文", "wen"},   {"海", "hai"},  {"东", "dong"},  {"峰", "feng"},
    {"亮", "liang"}, {"成", "cheng"}, {"新", "xin"},  {"永", "yong"},  {"德", "de"},
    {"庆", "qing"},  {"春", "chun"},  {"荣", "rong"}, {"忠", "zhong"}, {"振", "zhen"},
    {"云", "yun"},   {"祥", "xiang"}, {"博", "bo"},   {"毅", "yi"},    {"立", "li"},
    {"晨", "chen"},  {"瑞", "rui"},   {"嘉", "jia"},  {"子", "zi"},    {"天", "tian"},
    {"泽", "ze"},    {"昊", "hao"},   {"睿", "rui"},  {"铭", "ming"},  {"卫", "wei"},
    {"彬", "bin"},   {"松", "song"},
};
static const hanzi GIVEN_FEMALE[] = {
    {"芳", "fang"}, {"娜", "na"},   {"敏", "min"},  {"静", "jing"}, {"丽", "li"},   {"艳", "yan"},
    {"娟", "juan"}, {"霞", "xia"},  {"秀", "xiu"},  {"玲", "ling"}, {"桂", "gui"},  {"英", "ying"},
    {"兰", "lan"},  {"萍", "ping"}, {"红", "hong"}, {"婷", "ting"}, {"雪", "xue"},  {"琳", "lin"},
    {"洁", "jie"},  {"梅", "mei"},  {"琴", "qin"},  {"燕", "yan"},  {"慧", "hui"},  {"莉", "li"},
    {"颖", "ying"}, {"倩", "qian"}, {"晶", "jing"}, {"月", "yue"},  {"佳", "jia"},  {"欣", "xin"},
    {"悦", "yue"},  {"雅", "ya"},   {"怡", "yi"},   {"璐", "lu"},   {"婧", "jing"}, {"蕾", "lei"},
    {"薇", "wei"},  {"莹", "ying"}, {"珊", "shan"}, {"淑", "shu"},  {"凤", "feng"}, {"瑶", "yao"},
    {"岚", "lan"},  {"蓉", "rong"}, {"菲", "fei"},  {"琪", "qi"},   {"思", "si"},   {"晓", "xiao"},
    {"美", "mei"},  {"玉", "yu"},   {"珍", "zhen"}, {"翠", "cui"},  {"丹", "dan"},  {"露", "lu"},
    {"曼", "man"},  {"妍", "yan"},  {"冰", "bing"}, {"媛", "yuan"}, {"茜", "qian"}, {"瑾", "jin"},
    {"馨", "xin"},
};

/* ---- places ------------------------------------------------------------------------------- */

typedef enum city { CITY_BEIJING, CITY_SHANGHAI } city;

/* Resident ID area codes: the districts as they are now, and the ones merged away
 * (崇文 宣武 in 2010, 闸北 卢湾 in 2011/2015) that older residents were born under. */
static const char *const ID_AREAS_BEIJING[] = {
    "110101", "110102", "110103", "110104", "110105", "110106", "110107", "110108", "110109",
    "110111", "110112", "110113", "110114", "110115", "110116", "110117", "110118", "110119"};
static const char *const ID_AREAS_SHANGHAI[] = {
    "310101", "310103", "310104", "310105", "310106", "310107", "310108", "310109", "310110",
    "310112", "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151"};
/* Born elsewhere: 天津 石家庄 沈阳 南京 苏州 杭州 宁波 济南 青岛 武汉 广州 深圳 成都 西安. */
static const char *const ID_AREAS_ELSEWHERE[] = {"120101", "130102", "210102", "320102", "320508",
                                                 "330106", "330203", "370102", "370202", "420102",
                                                 "440106", "440304", "510104", "610113"};

typedef struct district {
    const char *name;
    const char *streets[5];
} district;

static const district BEIJING[] = {
    {"东城区", {"东四十条", "王府井大街", "朝阳门北大街", "东直门内大街", "建国门内大街"}},
    {"西城区", {"金融大街", "西直门外大街", "阜成门内大街", "德胜门外大街", "月坛北街"}},
    {"朝阳区", {"建国路", "东三环中路", "朝阳北路", "望京街", "霄云路"}},
    {"海淀区", {"中关村大街", "学院路", "北四环西路", "万泉河路", "紫竹院路"}},
    {"丰台区", {"丰台北路", "南三环西路", "方庄路", "马家堡东路", "丽泽路"}},
    {"石景山区", {"石景山路", "鲁谷路", "八大处路", "古城大街", "苹果园路"}},
    {"通州区", {"新华西街", "运河东大街", "九棵树东路", "玉桥中路", "梨园北街"}},
    {"昌平区", {"回龙观西大街", "府学路", "鼓楼南街", "立汤路", "北清路"}},
    {"顺义区", {"府前中街", "新顺南大街", "天竺路", "后沙峪路", "双河大街"}},
    {"大兴区", {"兴华大街", "黄村西大街", "旧宫东路", "亦庄文化园西路", "林校路"}},
};
static const uint8_t BEIJING_WEIGHTS[COUNT(BEIJING)] = {10, 10, 18, 16, 8, 5, 8, 8, 9, 8};

static const district SHANGHAI[] = {
    {"黄浦区", {"南京东路", "淮海中路", "复兴中路", "西藏南路", "中山南路"}},
    {"徐汇区", {"衡山路", "肇嘉浜路", "漕溪北路", "天平路", "宛平南路"}},
    {"长宁区", {"延安西路", "愚园路", "虹桥路", "仙霞路", "天山路"}},
    {"静安区", {"南京西路", "常德路", "延安中路", "江宁路", "巨鹿路"}},
    {"普陀区", {"长寿路", "曹杨路", "真北路", "武宁路", "金沙江路"}},
    {"虹口区", {"四川北路", "多伦路", "曲阳路", "大连路", "东江湾路"}},
    {"杨浦区", {"国权路", "控江路", "黄兴路", "平凉路", "政立路"}},
    {"浦东新区", {"世纪大道", "陆家嘴环路", "张杨路", "锦绣路", "花木路"}},
    {"闵行区", {"虹梅路", "七莘路", "沪闵路", "古美路", "莲花南路"}},
    {"宝山区", {"牡丹江路", "友谊路", "共和新路", "淞滨路", "泰和路"}},
};
static const uint8_t SHANGHAI_WEIGHTS[COUNT(SHANGHAI)] = {10, 14, 11, 13, 7, 7, 8, 18, 9, 5};

/* ---- contact ------------------------------------------------------------------------------ */

static const char *const MOBILE_PREFIXES[] = {"139", "138", "137", "136", "135", "150", "151",
                                              "186", "188", "130", "131", "132", "155", "156",
                                              "133", "153", "180", "189", "177", "199"};

static const char *const MAIL_DOMAINS[] = {"163.com", "126.com", "qq.com", "sina.com", "gmail.com"};
static const uint8_t MAIL_DOMAIN_WEIGHTS[COUNT(MAIL_DOMAINS)] = {30, 15, 30, 10, 8};
/* Invented company domains (".example" would look fake; these belong to no customer). */
static const char *const COMPANY_DOMAINS[] = {
    "huaxin-capital.cn",    "dongfang-law.com",    "jinhua-trade.com.cn", "ruiyuan-invest.com",
    "haitai-group.cn",      "mingde-partners.com", "zhongbei-energy.cn",  "shenghe-pharma.com",
    "yuanfeng-arch.com.cn", "tianrui-media.cn"};

/* ---- preferences and notes ---------------------------------------------------------------- */

static const char *const PREFERENCES[] = {"porcelain", "jade",     "bronze", "calligraphy_painting",
                                          "furniture", "ceramics", "coins",  "lacquer",
                                          "textiles"};
static const uint8_t PREFERENCE_WEIGHTS[COUNT(PREFERENCES)] = {22, 16, 8, 18, 12, 9, 6, 4, 5};
static const uint8_t VIP_WEIGHTS[6] = {35, 28, 18, 10, 6, 3};

static const char *const NOTES[] = {
    "偏好清代官窑瓷器，每年春拍前联系",
    "对明式黄花梨家具兴趣浓厚，请留意品相好的圈椅",
    "只收和田白玉籽料，预算充足",
    "喜欢宋代名窑，尤其是龙泉窑和定窑",
    "每次预展都会亲自到场，请提前寄送纸本图录",
    "收藏近现代书画，关注海派名家作品",
    "习惯银行转账，发票需开具公司抬头",
    "不喜欢电话打扰，请优先微信联系",
    "老客户，介绍过多位朋友来画廊",
    "对青铜器感兴趣，但要求有完整的出版著录",
    "周末不方便联系，工作日下午为宜",
    "关注古钱币，尤其是清代机制币",
    "希望拍品附有权威鉴定证书",
    "偏爱剔红漆器及文房雅玩",
    "家中有专门的藏品室，需要上门布展服务",
    "每年秋拍必到，偏好高古玉器",
    "喜欢民国粉彩瓷板画，价位适中",
    "收藏缂丝与刺绣，注重保存状况",
    "需要英文版图录，家人在海外",
    "购买后希望由画廊安排送货及安装",
};
/* For honeytokens: the customer every curious insider would like to look up. */
static const char *const BAIT_NOTES[] = {
    "重要藏家，近年拍得多件清宫旧藏，资金实力雄厚",
    "大额客户，单次成交曾超过五百万元，需专人对接",
    "知名企业家，收藏以明清官窑为主，行程保密",
};

/* ---- transactions ------------------------------------------------------------------------- */

typedef struct item {
    const char *category; /* a value of the transaction field 'category' */
    const char *name;
    const char *eras[4]; /* the eras this kind of object is attributed to; NULL-padded */
    uint32_t lo, hi;     /* hammer price range, yuan */
} item;

static const item ITEMS[] = {
    {"porcelain", "青花缠枝莲纹梅瓶", {"明永乐", "明宣德", "清雍正", NULL}, 200000, 6000000},
    {"porcelain", "粉彩花卉纹碗", {"清乾隆", "清嘉庆", "清道光", NULL}, 30000, 1500000},
    {"porcelain", "五彩人物故事图盘", {"清康熙", "明万历", NULL, NULL}, 20000, 800000},
    {"porcelain", "青花山水人物纹笔筒", {"清康熙", "明崇祯", NULL, NULL}, 30000, 1200000},
    {"porcelain", "珐琅彩花鸟纹碗", {"清雍正", "清乾隆", NULL, NULL}, 500000, 8000000},
    {"porcelain", "霁蓝釉描金赏瓶", {"清乾隆", "清光绪", NULL, NULL}, 20000, 600000},
    {"porcelain", "粉彩百子图碗", {"清嘉庆", "清道光", "清同治", NULL}, 10000, 300000},
    {"porcelain", "浅绛彩山水瓷板", {"清光绪", "民国", NULL, NULL}, 5000, 150000},
    {"ceramics", "龙泉窑青釉刻花碗", {"南宋", "元", "明", NULL}, 10000, 500000},
    {"ceramics", "钧窑天蓝釉紫斑碗", {"北宋", "金", "元", NULL}, 30000, 1500000},
    {"ceramics", "磁州窑白地黑花梅瓶", {"北宋", "金", "元", NULL}, 20000, 600000},
    {"ceramics", "三彩马", {"唐", NULL, NULL, NULL}, 50000, 2000000},
    {"ceramics", "建窑兔毫盏", {"南宋", "北宋", NULL, NULL}, 10000, 400000},
    {"ceramics", "定窑白釉刻花盘", {"北宋", "金", NULL, NULL}, 30000, 1200000},
    {"ceramics", "彩陶双耳罐", {"新石器时代", NULL, NULL, NULL}, 5000, 120000},
    {"ceramics", "紫砂扁壶", {"清", "民国", NULL, NULL}, 8000, 500000},
    {"jade", "白玉璧", {"汉", "战国", NULL, NULL}, 50000, 3000000},
    {"jade", "白玉雕山子", {"清乾隆", "清", NULL, NULL}, 80000, 4000000},
    {"jade", "青白玉螭龙纹剑璏", {"汉", NULL, NULL, NULL}, 20000, 600000},
    {"jade", "白玉福寿纹佩", {"清", "清乾隆", "明", NULL}, 8000, 300000},
    {"jade", "玉琮", {"新石器时代", NULL, NULL, NULL}, 50000, 2500000},
    {"jade", "碧玉双耳活环炉", {"清乾隆", "清", NULL, NULL}, 30000, 1500000},
    {"jade", "翡翠手镯", {"民国", "清", NULL, NULL}, 10000, 800000},
    {"bronze", "饕餮纹鼎", {"商", "西周", NULL, NULL}, 200000, 8000000},
    {"bronze", "铜鎏金释迦牟尼坐像", {"明永乐", "明宣德", "清乾隆", "明"}, 100000, 6000000},
    {"bronze", "错金银带钩", {"战国", "汉", NULL, NULL}, 10000, 400000},
    {"bronze", "铜冲天耳三足炉", {"明宣德", "明", "清", NULL}, 20000, 1000000},
    {"bronze", "海兽葡萄纹铜镜", {"唐", NULL, NULL, NULL}, 10000, 500000},
    {"bronze", "爵", {"商", "西周", NULL, NULL}, 80000, 2500000},
    {"calligraphy_painting", "设色山水立轴", {"清", "明", "民国", NULL}, 10000, 3000000},
    {"calligraphy_painting", "行书七言联", {"清", "民国", NULL, NULL}, 8000, 600000},
    {"calligraphy_painting", "花鸟册页", {"清", "民国", NULL, NULL}, 10000, 1500000},
    {"calligraphy_painting", "仕女图扇面", {"清", "民国", NULL, NULL}, 5000, 300000},
    {"calligraphy_painting", "草书手卷", {"明", "清", NULL, NULL}, 50000, 5000000},
    {"calligraphy_painting", "墨竹图立轴", {"清", "民国", NULL, NULL}, 8000, 800000},
    {"furniture", "黄花梨圈椅", {"明", "清早期", NULL, NULL}, 300000, 6000000},
    {"furniture", "紫檀雕云龙纹宝座", {"清乾隆", "清", NULL, NULL}, 500000, 8000000},
    {"furniture", "红木八仙桌", {"清", "民国", NULL, NULL}, 10000, 200000},
    {"furniture", "黄花梨方角柜", {"明", "清早期", NULL, NULL}, 400000, 7000000},
    {"furniture", "鸡翅木条案", {"清", NULL, NULL, NULL}, 20000, 500000},
    {"furniture", "榆木四出头官帽椅", {"清", "明", NULL, NULL}, 8000, 150000},
    {"coins", "开元通宝", {"唐", NULL, NULL, NULL}, 5000, 50000},
    {"coins", "光绪元宝库平七钱二分银币", {"清光绪", NULL, NULL, NULL}, 8000, 600000},
    {"coins", "袁世凯像壹圆银币", {"民国", NULL, NULL, NULL}, 5000, 200000},
    {"coins", "大清银币壹圆", {"清宣统", NULL, NULL, NULL}, 10000, 800000},
    {"coins", "崇宁通宝折十钱", {"北宋", NULL, NULL, NULL}, 5000, 80000},
    {"coins", "齐法化刀币", {"战国", NULL, NULL, NULL}, 10000, 300000},
    {"lacquer", "剔红山水人物纹圆盒", {"明永乐", "清乾隆", "明", NULL}, 50000, 3000000},
    {"lacquer", "黑漆嵌螺钿花鸟纹盒", {"明", "清", NULL, NULL}, 10000, 600000},
    {"lacquer", "剔犀如意云纹盘", {"元", "明", NULL, NULL}, 80000, 2500000},
    {"lacquer", "描金漆提盒", {"清", NULL, NULL, NULL}, 8000, 200000},
    {"textiles", "缂丝花鸟图挂屏", {"清乾隆", "清", NULL, NULL}, 30000, 1500000},
    {"textiles", "明黄缎绣云龙纹吉服袍", {"清", "清光绪", NULL, NULL}, 100000, 3000000},
    {"textiles", "织金锦经皮", {"明", NULL, NULL, NULL}, 20000, 500000},
    {"textiles", "苏绣花鸟屏风", {"民国", "清", NULL, NULL}, 5000, 150000},
};

/* Hammer prices sit on the auction ladder's increments (yuan). */
static const uint32_t PRICE_LADDER[] = {
    5000,    6000,    8000,    10000,   12000,   15000,   18000,   20000,   25000,   30000,
    35000,   40000,   45000,   50000,   60000,   70000,   80000,   90000,   100000,  120000,
    150000,  180000,  200000,  250000,  300000,  350000,  400000,  450000,  500000,  600000,
    700000,  800000,  900000,  1000000, 1200000, 1500000, 1800000, 2000000, 2500000, 3000000,
    3500000, 4000000, 4500000, 5000000, 6000000, 7000000, 8000000};
#define PRICE_MAX_YUAN 8000000u
#define BUYER_PREMIUM_PERCENT 15u

/* ---- communications ----------------------------------------------------------------------- */

static const char *const CHANNELS[] = {"phone", "wechat", "email", "visit"};
static const uint8_t CHANNEL_WEIGHTS[COUNT(CHANNELS)] = {35, 35, 15, 15};

/* Channels a summary fits (bits of CHANNELS). */
#define CH_PHONE 1u
#define CH_WECHAT 2u
#define CH_EMAIL 4u
#define CH_VISIT 8u
#define CH_REMOTE (CH_PHONE | CH_WECHAT | CH_EMAIL)

typedef struct summary {
    const char *text;
    unsigned channels;
} summary;

static const summary SUMMARIES[] = {
    {"已电话告知客户春季拍卖预展时间，客户表示会准时参加。", CH_PHONE},
    {"通过微信发送了秋拍图录电子版，客户表示感谢。", CH_WECHAT},
    {"客户来馆参观预展，对清乾隆粉彩瓷器很感兴趣。", CH_VISIT},
    {"邀请客户出席下月的私人洽购会，客户已确认出席。", CH_REMOTE},
    {"回复客户关于拍品来源与著录的询问，已发送相关资料。", CH_EMAIL | CH_WECHAT},
    {"协助客户预约专家鉴定，时间定于下周三上午。", CH_PHONE | CH_WECHAT | CH_VISIT},
    {"客户询问送拍流程，已介绍征集标准与佣金比例。", CH_REMOTE | CH_VISIT},
    {"通知客户所购拍品已完成包装，约定周五送货上门。", CH_PHONE | CH_WECHAT},
    {"已按客户要求重新开具发票并寄出，客户已签收。", CH_REMOTE},
    {"礼貌提醒客户尾款付款期限，客户表示本周内完成转账。", CH_REMOTE},
    {"客户反馈送达的家具完好无损，对服务表示满意。", CH_REMOTE},
    {"向客户介绍本季重点拍品，客户希望获取更多细节图片。", CH_PHONE | CH_WECHAT | CH_VISIT},
    {"客户来电咨询藏品保养方法，已提供书面建议。", CH_PHONE},
    {"邮件发送了成交确认书和付款说明，请客户核对。", CH_EMAIL},
    {"客户希望委托竞投，已协助填写委托竞投表。", CH_EMAIL | CH_WECHAT | CH_VISIT},
    {"与客户确认电话委托竞投的联系方式及时间安排。", CH_PHONE | CH_WECHAT},
    {"客户到访画廊取回鉴定证书，并了解了近期展览安排。", CH_VISIT},
    {"节日问候，同时告知春节期间画廊营业时间。", CH_REMOTE},
    {"客户询问一件瓷器的修复情况，已安排专家出具状况报告。", CH_REMOTE},
    {"向客户寄送了新一期会员刊物及活动邀请函。", CH_EMAIL},
    {"客户对上次拍卖结果有疑问，已耐心解释并致歉。", CH_PHONE | CH_WECHAT | CH_VISIT},
    {"约定下周陪同客户参观库房中的明清家具。", CH_PHONE | CH_WECHAT},
    {"客户希望转让一件旧藏玉器，已安排初步估价。", CH_WECHAT | CH_VISIT},
    {"发送了私人洽购作品清单，客户将于周末答复。", CH_EMAIL | CH_WECHAT},
    {"客户预约参加古书画鉴赏讲座，已为其保留座位。", CH_PHONE | CH_WECHAT},
};

/* ---- helpers ------------------------------------------------------------------------------ */

/* Stores the NUL-terminated text s into field idx through validation. */
static err put(record *rec, int idx, const char *s)
{
    return record_set(rec, idx, s, strlen(s));
}

/* Appends to out[0..max) at *len, always NUL-terminated; ERR_INTERNAL when it does not fit
 * (the tables are sized so that it always does). */
static err cat(char *out, size_t max, size_t *len, const char *s)
{
    size_t n = strlen(s);
    ENSURE(*len + n < max, ERR_INTERNAL, "demo value does not fit its buffer");
    memcpy(out + *len, s, n + 1);
    *len += n;
    return ERR_OK;
}

static err catf(char *out, size_t max, size_t *len, const char *fmt, ...) PRINTF_LIKE(4, 5);
static err catf(char *out, size_t max, size_t *len, const char *fmt, ...)
{
    ENSURE(*len < max, ERR_INTERNAL, "demo value does not fit its buffer");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, max - *len, fmt, ap);
    va_end(ap);
    ENSURE(n >= 0 && (size_t)n < max - *len, ERR_INTERNAL, "demo value does not fit its buffer");
    *len += (size_t)n;
    return ERR_OK;
}

/* Appends count random characters of alphabet. */
static err cat_random(demo_rng *r, char *out, size_t max, size_t *len, const char *alphabet,
                      size_t count)
{
    size_t n = strlen(alphabet);
    for (size_t i = 0; i < count; i++) {
        char c[2] = {alphabet[demo_rng_below(r, (uint32_t)n)], '\0'};
        TRY(cat(out, max, len, c));
    }
    return ERR_OK;
}

static bool leap(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint32_t month_days(uint32_t y, uint32_t m)
{
    static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && leap(y)) ? 29 : days[m - 1];
}

typedef struct date {
    uint32_t y, m, d;
} date;

/* A random day of the years [y0, y1] (year, then month, then day), not after month
 * last_month of y1. */
static date random_date(demo_rng *r, uint32_t y0, uint32_t y1, uint32_t last_month)
{
    date t;
    t.y = between(r, y0, y1);
    t.m = between(r, 1, t.y == y1 ? last_month : 12);
    t.d = between(r, 1, month_days(t.y, t.m));
    return t;
}

/* ---- customers ---------------------------------------------------------------------------- */

typedef struct person {
    const hanzi *surname;
    const hanzi *given[2];
    int ngiven;
    bool male;
    date born;
    city home;
} person;

static void make_person(demo_rng *r, city home, person *p)
{
    p->home = home;
    p->male = chance(r, 52);
    if (chance(r, 2)) {
        p->surname = &PICK(r, COMPOUND_SURNAMES);
    } else if (chance(r, 55)) {
        p->surname = &SURNAMES[demo_rng_below(r, SURNAMES_COMMON)];
    } else {
        p->surname = &PICK(r, SURNAMES);
    }
    p->ngiven = chance(r, 70) ? 2 : 1;
    for (int i = 0; i < p->ngiven; i++) {
        p->given[i] = p->male ? &PICK(r, GIVEN_MALE) : &PICK(r, GIVEN_FEMALE);
    }
    if (p->ngiven == 2 && p->given[0] == p->given[1] && chance(r, 50)) {
        p->ngiven = 1; /* keep doubled names (丽丽, 明明) rare */
    }
    /* Collectors are mostly middle-aged or older: a triangular spread peaking around 1972. */
    uint32_t a = demo_rng_below(r, 56);
    uint32_t b = demo_rng_below(r, 56);
    p->born.y = 1945 + (a + b) / 2;
    p->born.m = between(r, 1, 12);
    p->born.d = between(r, 1, month_days(p->born.y, p->born.m));
}

static err name_of(const person *p, char *out, size_t max)
{
    size_t len = 0;
    out[0] = '\0';
    TRY(cat(out, max, &len, p->surname->hz));
    for (int i = 0; i < p->ngiven; i++) {
        TRY(cat(out, max, &len, p->given[i]->hz));
    }
    return ERR_OK;
}

/* The given name's pinyin run together ("xiaoming"). */
static err given_pinyin(const person *p, char *out, size_t max)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < p->ngiven; i++) {
        TRY(cat(out, max, &len, p->given[i]->py));
    }
    return ERR_OK;
}

/* An 18-character resident ID: area, birth date, sequence whose last digit is odd for men
 * and even for women, and the GB 11643 check character. */
static err id_number_of(demo_rng *r, const person *p, char out[19])
{
    const char *area;
    uint32_t where = demo_rng_below(r, 100);
    if (where < 80) {
        area = p->home == CITY_BEIJING ? PICK(r, ID_AREAS_BEIJING) : PICK(r, ID_AREAS_SHANGHAI);
    } else if (where < 92) {
        area = p->home == CITY_BEIJING ? PICK(r, ID_AREAS_SHANGHAI) : PICK(r, ID_AREAS_BEIJING);
    } else {
        area = PICK(r, ID_AREAS_ELSEWHERE);
    }
    uint32_t station = between(r, 1, 99);
    uint32_t sex = demo_rng_below(r, 5) * 2 + (p->male ? 1 : 0);
    int n = snprintf(out, 19, "%s%04u%02u%02u%02u%u", area, (unsigned)p->born.y,
                     (unsigned)p->born.m, (unsigned)p->born.d, (unsigned)station, (unsigned)sex);
    ENSURE(n == 17, ERR_INTERNAL, "demo ID number has the wrong shape");
    char check = id_number_check_digit(out);
    ENSURE(check != '\0', ERR_INTERNAL, "demo ID number has no check digit");
    out[17] = check;
    out[18] = '\0';
    return ERR_OK;
}

static err phone_of(demo_rng *r, city c, char out[24])
{
    size_t len = 0;
    out[0] = '\0';
    if (chance(r, 12)) {
        /* A home landline: area code and 8 digits, the first 6 or 8 in Beijing, 5 or 6 in
         * Shanghai (never 0 or 1). */
        TRY(cat(out, 24, &len, c == CITY_BEIJING ? "010-" : "021-"));
        TRY(cat_random(r, out, 24, &len, c == CITY_BEIJING ? "68" : "56", 1));
        return cat_random(r, out, 24, &len, "0123456789", 7);
    }
    TRY(cat(out, 24, &len, PICK(r, MOBILE_PREFIXES)));
    return cat_random(r, out, 24, &len, "0123456789", 8);
}

static err email_of(demo_rng *r, const person *p, char *out, size_t max)
{
    char given[32];
    TRY(given_pinyin(p, given, sizeof given));
    const char *sur = p->surname->py;
    size_t len = 0;
    out[0] = '\0';
    if (chance(r, 12)) {
        /* Staff of a company use their work address. */
        const char *domain = PICK(r, COMPANY_DOMAINS);
        if (chance(r, 50)) {
            return catf(out, max, &len, "%s.%s@%s", given, sur, domain);
        }
        return catf(out, max, &len, "%s%s@%s", sur, given, domain);
    }
    const char *domain = MAIL_DOMAINS[weighted(r, MAIL_DOMAIN_WEIGHTS, COUNT(MAIL_DOMAINS))];
    if (strcmp(domain, "qq.com") == 0 && chance(r, 70)) {
        /* Most QQ mail addresses are the QQ number itself. */
        TRY(cat_random(r, out, max, &len, "123456789", 1));
        TRY(cat_random(r, out, max, &len, "0123456789", between(r, 5, 9)));
        return catf(out, max, &len, "@%s", domain);
    }
    unsigned year = (unsigned)p->born.y;
    switch (demo_rng_below(r, 5)) {
    case 0:
        return catf(out, max, &len, "%s.%s%u@%s", sur, given, year, domain);
    case 1:
        return catf(out, max, &len, "%s%s%02u@%s", sur, given, year % 100, domain);
    case 2:
        return catf(out, max, &len, "%s.%s@%s", given, sur, domain);
    case 3: {
        char initials[4] = {sur[0], given[0], '\0', '\0'};
        if (p->ngiven == 2) {
            initials[2] = p->given[1]->py[0];
        }
        return catf(out, max, &len, "%s%u@%s", initials, year, domain);
    }
    default: {
        uint32_t digits = between(r, 100, 999);
        return catf(out, max, &len, "%s_%s%u@%s", sur, given, (unsigned)digits, domain);
    }
    }
}

static err wechat_of(demo_rng *r, const person *p, char *out, size_t max)
{
    size_t len = 0;
    out[0] = '\0';
    if (chance(r, 60)) {
        TRY(cat(out, max, &len, "wxid_"));
        return cat_random(r, out, max, &len, "abcdefghijklmnopqrstuvwxyz0123456789", 14);
    }
    char given[32];
    TRY(given_pinyin(p, given, sizeof given));
    if (chance(r, 50)) {
        return catf(out, max, &len, "%s%s_%u", p->surname->py, given, (unsigned)p->born.y);
    }
    uint32_t digits = between(r, 10, 99);
    return catf(out, max, &len, "%s-%s%u", given, p->surname->py, (unsigned)digits);
}

static err address_of(demo_rng *r, city c, char *out, size_t max)
{
    size_t len = 0;
    out[0] = '\0';
    const district *d = c == CITY_BEIJING
                            ? &BEIJING[weighted(r, BEIJING_WEIGHTS, COUNT(BEIJING))]
                            : &SHANGHAI[weighted(r, SHANGHAI_WEIGHTS, COUNT(SHANGHAI))];
    const char *street = d->streets[demo_rng_below(r, (uint32_t)COUNT(d->streets))];
    TRY(catf(out, max, &len, "%s%s%s", c == CITY_BEIJING ? "北京市" : "上海市", d->name, street));
    uint32_t floor = between(r, 1, 28);
    uint32_t room = floor * 100 + between(r, 1, 6);
    if (c == CITY_BEIJING) {
        uint32_t no = between(r, 1, 199);
        uint32_t building = between(r, 1, 20);
        if (chance(r, 60)) {
            uint32_t unit = between(r, 1, 6);
            return catf(out, max, &len, "%u号院%u号楼%u单元%u室", (unsigned)no, (unsigned)building,
                        (unsigned)unit, (unsigned)room);
        }
        return catf(out, max, &len, "%u号院%u号楼%u室", (unsigned)no, (unsigned)building,
                    (unsigned)room);
    }
    if (chance(r, 55)) {
        /* A lane house: 弄 (lane), house number, and a low room number. */
        uint32_t lane = between(r, 1, 1200);
        uint32_t house = between(r, 1, 40);
        uint32_t low = between(r, 1, 6) * 100 + between(r, 1, 4);
        return catf(out, max, &len, "%u弄%u号%u室", (unsigned)lane, (unsigned)house, (unsigned)low);
    }
    uint32_t no = between(r, 1, 1999);
    return catf(out, max, &len, "%u号%u室", (unsigned)no, (unsigned)room);
}

static err preferences_of(demo_rng *r, char *out, size_t max)
{
    size_t chosen[3];
    size_t n = 0, want = between(r, 1, 3);
    size_t len = 0;
    out[0] = '\0';
    while (n < want) {
        size_t k = weighted(r, PREFERENCE_WEIGHTS, COUNT(PREFERENCES));
        bool seen = false;
        for (size_t i = 0; i < n; i++) {
            seen = seen || chosen[i] == k;
        }
        if (seen) {
            continue;
        }
        chosen[n++] = k;
        TRY(catf(out, max, &len, "%s%s", n > 1 ? "," : "", PREFERENCES[k]));
    }
    return ERR_OK;
}

/* The whole customer; bait selects the honeytoken's tempting VIP level and note. */
static err customer(demo_rng *r, const char *department, const char *salesperson, record *rec,
                    bool bait)
{
    ENSURE(r != NULL && department != NULL && salesperson != NULL && rec != NULL, ERR_INTERNAL,
           "demo_customer: missing argument");
    ENSURE(rec->type == REC_CUSTOMER, ERR_INTERNAL, "demo_customer needs a customer record");
    city dept_city;
    if (strcmp(department, "beijing") == 0) {
        dept_city = CITY_BEIJING;
    } else if (strcmp(department, "shanghai") == 0) {
        dept_city = CITY_SHANGHAI;
    } else {
        dept_city = chance(r, 50) ? CITY_BEIJING : CITY_SHANGHAI;
    }
    /* Some customers of a gallery live in the other city. */
    city home = dept_city;
    if (chance(r, 10)) {
        home = dept_city == CITY_BEIJING ? CITY_SHANGHAI : CITY_BEIJING;
    }
    person p;
    make_person(r, home, &p);

    char text[320];
    size_t len = 0;
    TRY(name_of(&p, text, sizeof text));
    TRY(put(rec, CF_NAME, text));
    if (chance(r, 90)) {
        char id[19];
        TRY(id_number_of(r, &p, id));
        TRY(put(rec, CF_ID_NUMBER, id));
    }
    TRY(catf(text, sizeof text, &len, "%04u-%02u-%02u", (unsigned)p.born.y, (unsigned)p.born.m,
             (unsigned)p.born.d));
    TRY(put(rec, CF_BIRTH_DATE, text));
    TRY(phone_of(r, home, text));
    TRY(put(rec, CF_PHONE, text));
    if (chance(r, 60)) {
        TRY(email_of(r, &p, text, sizeof text));
        TRY(put(rec, CF_EMAIL, text));
    }
    TRY(address_of(r, home, text, sizeof text));
    TRY(put(rec, CF_ADDRESS, text));
    if (chance(r, 50)) {
        TRY(wechat_of(r, &p, text, sizeof text));
        TRY(put(rec, CF_WECHAT, text));
    }
    TRY(preferences_of(r, text, sizeof text));
    TRY(put(rec, CF_PREFERENCES, text));
    uint32_t vip = bait ? between(r, 4, 5) : (uint32_t)weighted(r, VIP_WEIGHTS, COUNT(VIP_WEIGHTS));
    len = 0;
    TRY(catf(text, sizeof text, &len, "%u", (unsigned)vip));
    TRY(put(rec, CF_VIP_LEVEL, text));
    TRY(put(rec, CF_DEPARTMENT, department));
    TRY(put(rec, CF_SALESPERSON, salesperson));
    TRY(put(rec, CF_MARKETING_CONSENT, chance(r, 65) ? "true" : "false"));
    if (bait) {
        TRY(put(rec, CF_NOTES, PICK(r, BAIT_NOTES)));
    } else if (chance(r, 35)) {
        TRY(put(rec, CF_NOTES, PICK(r, NOTES)));
    }
    return ERR_OK;
}

err demo_customer(demo_rng *r, const char *department, const char *salesperson, record *rec)
{
    return customer(r, department, salesperson, rec, false);
}

err demo_honeytoken(demo_rng *r, const char *department, const char *salesperson, record *rec)
{
    return customer(r, department, salesperson, rec, true);
}

/* ---- transactions ------------------------------------------------------------------------- */

/* Index range [*first, *last] of the ladder steps within [lo, hi] yuan. */
static void ladder_range(uint32_t lo, uint32_t hi, size_t *first, size_t *last)
{
    *first = 0;
    while (*first + 1 < COUNT(PRICE_LADDER) && PRICE_LADDER[*first] < lo) {
        (*first)++;
    }
    *last = *first;
    while (*last + 1 < COUNT(PRICE_LADDER) && PRICE_LADDER[*last + 1] <= hi) {
        (*last)++;
    }
}

static const char *payment_for(demo_rng *r, uint32_t yuan)
{
    static const char *const METHODS[] = {"cash", "card", "bank_transfer", "wechat_pay", "alipay"};
    static const uint8_t SMALL[COUNT(METHODS)] = {10, 25, 10, 30, 25};
    static const uint8_t MEDIUM[COUNT(METHODS)] = {3, 22, 60, 8, 7};
    static const uint8_t LARGE[COUNT(METHODS)] = {0, 8, 92, 0, 0};
    const uint8_t *w = yuan < 50000 ? SMALL : yuan <= 1000000 ? MEDIUM : LARGE;
    return METHODS[weighted(r, w, COUNT(METHODS))];
}

err demo_transaction(demo_rng *r, record *rec)
{
    ENSURE(r != NULL && rec != NULL, ERR_INTERNAL, "demo_transaction: missing argument");
    ENSURE(rec->type == REC_TRANSACTION, ERR_INTERNAL,
           "demo_transaction needs a transaction record");
    const item *it = &PICK(r, ITEMS);
    size_t neras = 0;
    while (neras < COUNT(it->eras) && it->eras[neras] != NULL) {
        neras++;
    }
    const char *era = it->eras[demo_rng_below(r, (uint32_t)neras)];
    date when = random_date(r, 2015, 2026, 10);
    size_t first, last;
    ladder_range(it->lo, it->hi, &first, &last);
    uint32_t hammer = PRICE_LADDER[between(r, (uint32_t)first, (uint32_t)last)];
    /* Most purchases are at auction (a lot number, the buyer's premium on top); the rest
     * are bought in the gallery at the agreed price. */
    bool auction = chance(r, 70);
    uint32_t yuan = hammer;
    if (auction && hammer / 100 * (100 + BUYER_PREMIUM_PERCENT) <= PRICE_MAX_YUAN) {
        yuan = hammer / 100 * (100 + BUYER_PREMIUM_PERCENT);
    }

    char text[256];
    size_t len = 0;
    TRY(catf(text, sizeof text, &len, "%04u-%02u-%02u", (unsigned)when.y, (unsigned)when.m,
             (unsigned)when.d));
    TRY(put(rec, TF_DATE, text));
    if (auction) {
        /* Spring sales run to early summer, autumn sales to the year's end. */
        uint32_t lot = between(r, 1, 2800);
        len = 0;
        TRY(catf(text, sizeof text, &len, "%04u%c-%04u", (unsigned)when.y, when.m <= 7 ? 'S' : 'A',
                 (unsigned)lot));
        TRY(put(rec, TF_LOT, text));
    }
    len = 0;
    TRY(catf(text, sizeof text, &len, "%s %s", era, it->name));
    TRY(put(rec, TF_DESCRIPTION, text));
    TRY(put(rec, TF_ERA, era));
    TRY(put(rec, TF_CATEGORY, it->category));
    len = 0;
    TRY(catf(text, sizeof text, &len, "%llu", (unsigned long long)yuan * 100ULL));
    TRY(put(rec, TF_PRICE, text));
    TRY(put(rec, TF_CURRENCY, "CNY"));
    TRY(put(rec, TF_PAYMENT_METHOD, payment_for(r, yuan)));
    if (chance(r, 85)) {
        len = 0;
        if (when.y >= 2024) {
            /* A fully digital invoice: 20 digits, year and province first. */
            TRY(catf(text, sizeof text, &len, "%02u%s", (unsigned)(when.y % 100),
                     chance(r, 50) ? "11" : "31"));
            TRY(cat_random(r, text, sizeof text, &len, "0123456789", 16));
        } else {
            TRY(cat_random(r, text, sizeof text, &len, "0123456789", 8));
        }
        TRY(put(rec, TF_INVOICE, text));
    }
    return ERR_OK;
}

/* ---- communications ----------------------------------------------------------------------- */

err demo_communication(demo_rng *r, const char *employee, record *rec)
{
    ENSURE(r != NULL && employee != NULL && rec != NULL, ERR_INTERNAL,
           "demo_communication: missing argument");
    ENSURE(rec->type == REC_COMMUNICATION, ERR_INTERNAL,
           "demo_communication needs a communication record");
    date when = random_date(r, 2020, 2026, 10);
    uint32_t hour = between(r, 9, 19);
    uint32_t minute = demo_rng_below(r, 60);
    size_t ch = weighted(r, CHANNEL_WEIGHTS, COUNT(CHANNELS));
    /* A summary that fits the channel (every channel has several). */
    const summary *sum = &PICK(r, SUMMARIES);
    while ((sum->channels & (1u << ch)) == 0) {
        sum = &PICK(r, SUMMARIES);
    }
    char text[64];
    size_t len = 0;
    TRY(catf(text, sizeof text, &len, "%04u-%02u-%02uT%02u:%02u:00+08:00", (unsigned)when.y,
             (unsigned)when.m, (unsigned)when.d, (unsigned)hour, (unsigned)minute));
    TRY(put(rec, MF_AT, text));
    TRY(put(rec, MF_CHANNEL, CHANNELS[ch]));
    TRY(put(rec, MF_EMPLOYEE, employee));
    TRY(put(rec, MF_SUMMARY, sum->text));
    return ERR_OK;
}
