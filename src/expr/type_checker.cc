#include "expr/type_checker.h"

#include "expr/expr_error.h"

namespace ark::expr {
namespace {

bool IsNumeric(ExprType t) { return t == ExprType::kInt || t == ExprType::kFloat; }
bool IsScalar(ExprType t) {
  return t == ExprType::kBool || IsNumeric(t) || t == ExprType::kString || t == ExprType::kDynamic;
}

ExprType FromField(FieldType t) {
  switch (t) {
    case FieldType::kBool:
      return ExprType::kBool;
    case FieldType::kInt:
      return ExprType::kInt;
    case FieldType::kFloat:
      return ExprType::kFloat;
    case FieldType::kString:
      return ExprType::kString;
    case FieldType::kJson:
      return ExprType::kDynamic;
    case FieldType::kArray:
      return ExprType::kArray;
    case FieldType::kVector:
      return ExprType::kVector;
  }
  return ExprType::kUnknown;
}

ExprType TypeOfLiteral(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kBool:
      return ExprType::kBool;
    case Value::Kind::kInt:
      return ExprType::kInt;
    case Value::Kind::kDouble:
      return ExprType::kFloat;
    case Value::Kind::kString:
      return ExprType::kString;
    case Value::Kind::kJson:
      return ExprType::kList;
    case Value::Kind::kNull:
      return ExprType::kUnknown;
  }
  return ExprType::kUnknown;
}

// "VarChar field 'title'", "Int 3", "Float expression".
std::string Describe(const Node& n) {
  std::string type(ExprTypeName(n.type));
  if (n.kind == NodeKind::kField) {
    if (n.dynamic) return "dynamic field key '" + std::string(n.token) + "'";
    if (n.type == ExprType::kArray) {
      type = "Array<" + std::string(ExprTypeName(n.element_type)) + ">";
    }
    return type + (n.path.empty() ? " field '" : " element '") + std::string(n.token) + "'";
  }
  if (n.kind == NodeKind::kLiteral) return type + " " + std::string(n.token);
  if (n.kind == NodeKind::kArray) return "list " + std::string(n.token);
  return type + " expression";
}

// Whether a value of type `a` may be compared with one of type `b` by `op`.
bool Comparable(ExprType a, ExprType b, CompareOp op) {
  const bool equality = op == CompareOp::kEq || op == CompareOp::kNe;
  if (a == ExprType::kVector || b == ExprType::kVector) return false;
  if (a == ExprType::kDynamic || b == ExprType::kDynamic) return true;
  if (IsNumeric(a) && IsNumeric(b)) return true;
  if (a == ExprType::kString && b == ExprType::kString) return true;
  if (a == ExprType::kBool && b == ExprType::kBool) return equality;
  const bool a_list = a == ExprType::kArray || a == ExprType::kList;
  const bool b_list = b == ExprType::kArray || b == ExprType::kList;
  return a_list && b_list && equality;
}

// Whether element values of type `t` can ever equal values of type `e`.
bool ElementCompatible(ExprType t, ExprType e) {
  if (t == ExprType::kDynamic || e == ExprType::kDynamic) return true;
  if (IsNumeric(t) && IsNumeric(e)) return true;
  return t == e;
}

class Checker {
 public:
  Checker(std::string_view text, const SchemaResolver& schema) : text_(text), schema_(schema) {}

  Status CheckRoot(Node* root) {
    ARK_RETURN_IF_ERROR(Check(root));
    if (root->type != ExprType::kBool && root->type != ExprType::kDynamic) {
      return Error(*root, "a filter must be a boolean expression, got " + Describe(*root));
    }
    return Status::OK();
  }

 private:
  Status Error(const Node& n, const std::string& what) const {
    return FilterError(text_, n.offset, n.token, what);
  }

  Status Check(Node* n) {
    switch (n->kind) {
      case NodeKind::kLiteral:
        n->type = TypeOfLiteral(n->literal);
        return Status::OK();
      case NodeKind::kArray:
        n->type = ExprType::kList;
        return Status::OK();
      case NodeKind::kIdent:
        return ResolveIdent(n);
      case NodeKind::kIndex:
        return CheckIndex(n);
      case NodeKind::kField:
        return Status::OK();
      case NodeKind::kNeg: {
        ARK_RETURN_IF_ERROR(Check(n->children[0].get()));
        const Node& c = *n->children[0];
        if (!IsNumeric(c.type) && c.type != ExprType::kDynamic) {
          return Error(*n, "'-' needs a number, got " + Describe(c));
        }
        n->type = c.type;
        return Status::OK();
      }
      case NodeKind::kArith:
        return CheckArith(n);
      case NodeKind::kCompare:
        return CheckCompare(n);
      case NodeKind::kAnd:
      case NodeKind::kOr:
      case NodeKind::kNot: {
        for (auto& c : n->children) {
          ARK_RETURN_IF_ERROR(Check(c.get()));
          if (c->type != ExprType::kBool && c->type != ExprType::kDynamic) {
            const char* op = n->kind == NodeKind::kAnd  ? "and"
                             : n->kind == NodeKind::kOr ? "or"
                                                        : "not";
            return Error(*n,
                         std::string("'") + op + "' needs boolean operands, got " + Describe(*c));
          }
        }
        n->type = ExprType::kBool;
        return Status::OK();
      }
      case NodeKind::kIn:
        return CheckIn(n);
      case NodeKind::kLike: {
        ARK_RETURN_IF_ERROR(Check(n->children[0].get()));
        const Node& c = *n->children[0];
        if (c.type != ExprType::kString && c.type != ExprType::kDynamic) {
          return Error(*n, "'like' needs a VarChar or JSON operand, got " + Describe(c));
        }
        n->like = std::make_unique<LikePattern>(n->str);
        n->type = ExprType::kBool;
        return Status::OK();
      }
      case NodeKind::kIsNull: {
        ARK_RETURN_IF_ERROR(Check(n->children[0].get()));
        if (n->children[0]->kind != NodeKind::kField) {
          return Error(*n, "'is null' needs a field, got " + Describe(*n->children[0]));
        }
        n->type = ExprType::kBool;
        return Status::OK();
      }
      case NodeKind::kCall:
        return CheckCall(n);
    }
    return Error(*n, "internal: unknown node");
  }

  Status ResolveIdent(Node* n) {
    const std::string name = n->str;
    const FieldInfo* dynamic = schema_.DynamicField();
    const FieldInfo* f = schema_.FindField(name);
    n->kind = NodeKind::kField;
    if (f != nullptr) {
      if (f->type == FieldType::kVector) {
        return Error(*n, "vector field '" + name + "' cannot be used in a filter");
      }
      n->field_index = f->index;
      n->field_name = f->name;
      n->type = FromField(f->type);
      n->element_type = FromField(f->element_type);
      if (n->type == ExprType::kArray && !IsScalar(n->element_type)) {
        return Error(*n, "array field '" + name + "' has an unsupported element type");
      }
      return Status::OK();
    }
    if (dynamic == nullptr) {
      return Error(*n, "unknown field '" + name + "' (the collection has no dynamic field)");
    }
    n->field_index = dynamic->index;
    n->field_name = dynamic->name;
    n->dynamic = true;
    n->type = ExprType::kDynamic;
    if (name != "$meta") n->path.push_back({true, name, 0});
    return Status::OK();
  }

  // base[index]: folds the subscript into the base field's path.
  Status CheckIndex(Node* n) {
    Node* base = n->children[0].get();
    Node* index = n->children[1].get();
    ARK_RETURN_IF_ERROR(Check(base));
    ARK_RETURN_IF_ERROR(Check(index));
    if (base->kind != NodeKind::kField ||
        (base->type != ExprType::kDynamic && base->type != ExprType::kArray)) {
      return Error(*n, "only JSON and Array fields can be subscripted, not " + Describe(*base));
    }
    PathStep step;
    if (index->kind == NodeKind::kLiteral && index->literal.kind == Value::Kind::kString &&
        base->type == ExprType::kDynamic) {
      step.is_key = true;
      step.key = index->str;
    } else if (index->kind == NodeKind::kLiteral && index->literal.kind == Value::Kind::kInt) {
      if (index->literal.i < 0) return Error(*index, "a subscript must not be negative");
      step.index = index->literal.i;
    } else {
      return Error(*index, base->type == ExprType::kArray
                               ? "an Array subscript must be an integer literal"
                               : "a JSON subscript must be a string or integer literal");
    }
    // The node now names "base[...]" in messages.
    const size_t base_offset = base->offset;
    size_t close = text_.find(']', index->offset + index->token.size());
    close = close == std::string_view::npos ? text_.size() : close + 1;
    n->kind = NodeKind::kField;
    n->field_index = base->field_index;
    n->field_name = base->field_name;
    n->dynamic = base->dynamic;
    n->path = std::move(base->path);
    n->path.push_back(std::move(step));
    n->type = base->type == ExprType::kArray ? base->element_type : ExprType::kDynamic;
    n->element_type = ExprType::kUnknown;
    n->offset = base_offset;
    n->token = text_.substr(base_offset, close - base_offset);
    n->children.clear();
    n->depth = 1;
    return Status::OK();
  }

  Status CheckArith(Node* n) {
    for (auto& c : n->children) {
      ARK_RETURN_IF_ERROR(Check(c.get()));
      if (!IsNumeric(c->type) && c->type != ExprType::kDynamic) {
        return Error(*n, "arithmetic '" + std::string(ArithOpText(n->arith_op)) +
                             "' needs numbers, got " + Describe(*c));
      }
    }
    const ExprType a = n->children[0]->type, b = n->children[1]->type;
    if (a == ExprType::kDynamic || b == ExprType::kDynamic) {
      n->type = ExprType::kDynamic;
    } else if (n->arith_op == ArithOp::kPow || a == ExprType::kFloat || b == ExprType::kFloat) {
      n->type = ExprType::kFloat;
    } else {
      n->type = ExprType::kInt;
    }
    return Status::OK();
  }

  Status CheckCompare(Node* n) {
    ARK_RETURN_IF_ERROR(Check(n->children[0].get()));
    ARK_RETURN_IF_ERROR(Check(n->children[1].get()));
    const Node& a = *n->children[0];
    const Node& b = *n->children[1];
    if (!Comparable(a.type, b.type, n->compare_op)) {
      return Error(*n, "cannot compare " + Describe(a) + " with " + Describe(b) + " using '" +
                           std::string(CompareOpText(n->compare_op)) + "'");
    }
    // Constant on the left: flip so that evaluators see "field op constant".
    const bool a_const = a.kind == NodeKind::kLiteral || a.kind == NodeKind::kArray;
    const bool b_const = b.kind == NodeKind::kLiteral || b.kind == NodeKind::kArray;
    if (a_const && !b_const) {
      std::swap(n->children[0], n->children[1]);
      n->compare_op = FlipCompare(n->compare_op);
    }
    n->type = ExprType::kBool;
    return Status::OK();
  }

  Status CheckIn(Node* n) {
    Node* lhs = n->children[0].get();
    ARK_RETURN_IF_ERROR(Check(lhs));
    if (!IsScalar(lhs->type)) {
      return Error(*n, std::string("'") + (n->negated ? "not in" : "in") +
                           "' needs a scalar operand, got " + Describe(*lhs));
    }
    ARK_RETURN_IF_ERROR(PrepareList(*lhs, n->children[1].get(), n));
    n->type = ExprType::kBool;
    return Status::OK();
  }

  // Checks that every element of `list` can equal a value of `target`'s type
  // and builds owner->in_list.
  Status PrepareList(const Node& target, Node* list, Node* owner) {
    ExprType element = target.type == ExprType::kArray ? target.element_type : target.type;
    owner->in_list = std::make_unique<InList>();
    for (auto& e : list->children) {
      ARK_RETURN_IF_ERROR(Check(e.get()));
      if (!ElementCompatible(element, e->type)) {
        return Error(*e, "list element " + Describe(*e) + " can never equal " +
                             (target.type == ExprType::kArray ? "an element of " + Describe(target)
                                                              : Describe(target)));
      }
      owner->in_list->Add(e->literal);
    }
    owner->in_list->Finalize();
    list->type = ExprType::kList;
    return Status::OK();
  }

  Status CheckCall(Node* n) {
    const size_t want = n->function == Function::kArrayLength ? 1 : 2;
    if (n->children.size() != want) {
      return Error(*n, n->str + " takes " + std::to_string(want) + " argument" +
                           (want == 1 ? "" : "s") + ", got " + std::to_string(n->children.size()));
    }
    Node* target = n->children[0].get();
    ARK_RETURN_IF_ERROR(Check(target));
    if (target->kind != NodeKind::kField ||
        (target->type != ExprType::kArray && target->type != ExprType::kDynamic)) {
      return Error(*target, n->str + " needs an Array or JSON field, got " + Describe(*target));
    }
    if (n->function == Function::kArrayLength) {
      n->type = ExprType::kInt;
      return Status::OK();
    }
    Node* arg = n->children[1].get();
    ARK_RETURN_IF_ERROR(Check(arg));
    const bool takes_list =
        n->function != Function::kJsonContains && n->function != Function::kArrayContains;
    if (takes_list) {
      if (arg->kind != NodeKind::kArray) {
        return Error(*arg, n->str + " needs a list '[...]' as its second argument");
      }
      ARK_RETURN_IF_ERROR(PrepareList(*target, arg, n));
    } else {
      if (arg->kind != NodeKind::kLiteral && arg->kind != NodeKind::kArray) {
        return Error(*arg, n->str + " needs a literal as its second argument");
      }
      const ExprType element =
          target->type == ExprType::kArray ? target->element_type : ExprType::kDynamic;
      if (!ElementCompatible(element, arg->type)) {
        return Error(*arg, Describe(*arg) + " can never equal an element of " + Describe(*target));
      }
    }
    n->type = ExprType::kBool;
    return Status::OK();
  }

  std::string_view text_;
  const SchemaResolver& schema_;
};

}  // namespace

Status CheckFilter(std::string_view filter, const SchemaResolver& schema, Node* root) {
  return Checker(filter, schema).CheckRoot(root);
}

}  // namespace ark::expr
